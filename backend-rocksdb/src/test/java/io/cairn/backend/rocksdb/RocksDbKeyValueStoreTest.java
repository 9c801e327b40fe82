package io.cairn.backend.rocksdb;

import io.cairn.tck.KeyValueStoreContract;

/** The TCK's KeyValueStoreContract on RocksDB. */
class RocksDbKeyValueStoreTest extends KeyValueStoreContract {
  @Override
  protected String backendConfig() {
    return "type = rocksdb, durability = normal";
  }
}
