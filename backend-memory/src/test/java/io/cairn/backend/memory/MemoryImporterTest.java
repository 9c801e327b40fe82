package io.cairn.backend.memory;

import io.cairn.tck.ImporterContract;

/** The import contract on the memory backend (the EngineBackend importer). */
class MemoryImporterTest extends ImporterContract {
  @Override
  protected String backendConfig() {
    return "type = memory, durability = none";
  }
}
