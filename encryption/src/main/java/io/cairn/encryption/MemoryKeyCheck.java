package io.cairn.encryption;

import io.cairn.persistence.spi.KeyCheckStore;
import java.util.Optional;

/** A key check record kept in memory only: {@link TinkEncryption#standalone}. Thread-safe. */
final class MemoryKeyCheck implements KeyCheckStore {
  private byte[] record;

  @Override
  public synchronized Optional<byte[]> readKeyCheck() {
    return Optional.ofNullable(record).map(byte[]::clone);
  }

  @Override
  public synchronized byte[] createKeyCheck(byte[] r) {
    if (record == null) {
      record = r.clone();
    }
    return record.clone();
  }

  @Override
  public synchronized void replaceKeyCheck(byte[] r) {
    record = r.clone();
  }

  @Override
  public String keyCheckLocation() {
    return "memory";
  }
}
