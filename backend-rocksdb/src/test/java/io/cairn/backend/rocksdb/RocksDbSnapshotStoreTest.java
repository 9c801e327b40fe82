package io.cairn.backend.rocksdb;

import io.cairn.tck.SnapshotStoreContract;

/** The TCK's SnapshotStoreContract on RocksDB. */
class RocksDbSnapshotStoreTest extends SnapshotStoreContract {
  @Override
  protected String backendConfig() {
    return "type = rocksdb, durability = normal";
  }
}
