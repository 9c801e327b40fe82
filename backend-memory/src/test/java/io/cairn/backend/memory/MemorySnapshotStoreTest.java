package io.cairn.backend.memory;

import io.cairn.tck.SnapshotStoreContract;

class MemorySnapshotStoreTest extends SnapshotStoreContract {
  @Override
  protected String backendConfig() {
    return "type = memory";
  }
}
