package io.cairn.backend.rocksdb;

import io.cairn.tck.BackendContract;

/** The TCK's BackendContract on RocksDB. */
class RocksDbBackendTest extends BackendContract {
  @Override
  protected String backendConfig() {
    return "type = rocksdb, durability = normal";
  }
}
