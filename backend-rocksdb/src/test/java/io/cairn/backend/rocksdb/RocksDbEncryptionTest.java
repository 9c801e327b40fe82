package io.cairn.backend.rocksdb;

import io.cairn.tck.EncryptionContract;

/** The TCK's EncryptionContract: values, payloads and chunks sealed and bound to their place. */
class RocksDbEncryptionTest extends EncryptionContract {
  @Override
  protected String backendConfig() {
    return "type = rocksdb, durability = normal";
  }
}
