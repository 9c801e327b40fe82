package io.cairn.backend.rocksdb;

import io.cairn.tck.LogStoreContract;

/** The TCK's LogStoreContract on RocksDB. */
class RocksDbLogStoreTest extends LogStoreContract {
  @Override
  protected String backendConfig() {
    return "type = rocksdb, durability = normal";
  }
}
