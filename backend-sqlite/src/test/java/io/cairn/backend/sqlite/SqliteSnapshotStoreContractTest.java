package io.cairn.backend.sqlite;

import io.cairn.tck.SnapshotStoreContract;

class SqliteSnapshotStoreContractTest extends SnapshotStoreContract {
  @Override
  protected String backendConfig() {
    return "type = sqlite, durability = normal";
  }
}
