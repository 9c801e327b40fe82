package io.cairn.backend.rocksdb;

import io.cairn.tck.TransactionContract;

/** The TCK's TransactionContract on RocksDB. */
class RocksDbTransactionTest extends TransactionContract {
  @Override
  protected String backendConfig() {
    return "type = rocksdb, durability = normal";
  }
}
