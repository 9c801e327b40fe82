package io.cairn.backend.memory;

import io.cairn.tck.ConcurrencyContract;

class MemoryConcurrencyTest extends ConcurrencyContract {
  @Override
  protected String backendConfig() {
    return "type = memory";
  }
}
