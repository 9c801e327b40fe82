package io.cairn.backend.memory;

import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine;
import io.cairn.tck.engine.ExpiryIndexContract;

/** Runs the base's expiry index over the memory engine. */
class MemoryExpiryIndexTest extends ExpiryIndexContract {
  @Override
  protected StorageEngine openEngine(BackendContext context) {
    return new MemoryEngine();
  }
}
