package io.cairn.raft;

import io.cairn.raft.tck.RaftStorageContract;

class SqliteRaftStorageTest extends RaftStorageContract {
  @Override
  protected String backendConfig() {
    return "type = sqlite, durability = normal";
  }
}
