package io.cairn.backend.memory;

import io.cairn.tck.KeyValueStoreContract;

class MemoryKeyValueStoreTest extends KeyValueStoreContract {
  @Override
  protected String backendConfig() {
    return "type = memory";
  }
}
