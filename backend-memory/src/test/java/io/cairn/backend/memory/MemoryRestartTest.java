package io.cairn.backend.memory;

import io.cairn.tck.RestartContract;

class MemoryRestartTest extends RestartContract {
  @Override
  protected String backendConfig() {
    return "type = memory";
  }
}
