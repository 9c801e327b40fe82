package io.cairn.backend.rocksdb;

import io.cairn.tck.ReadTransactionContract;

/** The TCK's ReadTransactionContract on RocksDB. */
class RocksDbReadTransactionTest extends ReadTransactionContract {
  @Override
  protected String backendConfig() {
    return "type = rocksdb, durability = normal";
  }
}
