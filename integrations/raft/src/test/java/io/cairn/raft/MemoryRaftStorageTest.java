package io.cairn.raft;

import io.cairn.raft.tck.RaftStorageContract;

class MemoryRaftStorageTest extends RaftStorageContract {
  @Override
  protected String backendConfig() {
    return "type = memory, durability = none";
  }
}
