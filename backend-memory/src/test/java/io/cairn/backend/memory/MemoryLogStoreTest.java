package io.cairn.backend.memory;

import io.cairn.tck.LogStoreContract;

class MemoryLogStoreTest extends LogStoreContract {
  @Override
  protected String backendConfig() {
    return "type = memory";
  }
}
