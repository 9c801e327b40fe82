package io.cairn.backend.memory;

import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine;
import io.cairn.tck.engine.StoreCatalogContract;

/** Runs the base's catalog of logs and snapshot sets over the memory engine. */
class MemoryStoreCatalogTest extends StoreCatalogContract {
  @Override
  protected StorageEngine openEngine(BackendContext context) {
    return new MemoryEngine();
  }
}
