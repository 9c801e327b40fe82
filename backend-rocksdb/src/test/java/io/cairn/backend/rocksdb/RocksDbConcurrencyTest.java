package io.cairn.backend.rocksdb;

import io.cairn.tck.ConcurrencyContract;

/** The TCK's ConcurrencyContract on RocksDB. */
class RocksDbConcurrencyTest extends ConcurrencyContract {
  @Override
  protected String backendConfig() {
    return "type = rocksdb, durability = normal";
  }
}
