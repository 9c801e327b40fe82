package io.cairn.backend.rocksdb;

import io.cairn.tck.RestartContract;

/** The TCK's RestartContract on RocksDB. */
class RocksDbRestartTest extends RestartContract {
  @Override
  protected String backendConfig() {
    return "type = rocksdb, durability = normal";
  }
}
