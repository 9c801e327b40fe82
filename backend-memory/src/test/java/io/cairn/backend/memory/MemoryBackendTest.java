package io.cairn.backend.memory;

import io.cairn.tck.BackendContract;

class MemoryBackendTest extends BackendContract {
  @Override
  protected String backendConfig() {
    return "type = memory";
  }
}
