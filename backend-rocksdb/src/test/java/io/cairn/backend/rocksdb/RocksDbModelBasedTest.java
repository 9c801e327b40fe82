package io.cairn.backend.rocksdb;

import io.cairn.tck.ModelBasedContract;

/** The TCK's ModelBasedContract on RocksDB. */
class RocksDbModelBasedTest extends ModelBasedContract {
  @Override
  protected String backendConfig() {
    return "type = rocksdb, durability = normal";
  }
}
