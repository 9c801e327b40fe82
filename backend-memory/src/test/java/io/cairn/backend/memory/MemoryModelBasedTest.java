package io.cairn.backend.memory;

import io.cairn.tck.ModelBasedContract;

class MemoryModelBasedTest extends ModelBasedContract {
  @Override
  protected String backendConfig() {
    return "type = memory";
  }
}
