package io.cairn.raft;

import io.cairn.raft.tck.RaftStorageContract;

class RocksDbRaftStorageTest extends RaftStorageContract {
  @Override
  protected String backendConfig() {
    return "type = rocksdb, durability = normal";
  }
}
