package io.cairn.persistence.spi;

import java.util.Objects;
import java.util.Optional;

/** {@link KeyCheckStore#inMemory}: the record in a field. Thread-safe. */
final class InMemoryKeyCheck implements KeyCheckStore {
  private final String location;
  private byte[] record;

  InMemoryKeyCheck(String location) {
    this.location = Objects.requireNonNull(location, "location");
  }

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
    return location;
  }
}
