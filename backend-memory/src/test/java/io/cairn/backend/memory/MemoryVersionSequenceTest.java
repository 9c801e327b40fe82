package io.cairn.backend.memory;

import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine;
import io.cairn.tck.engine.VersionSequenceContract;

/** Runs the base's version sequence over the memory engine. */
class MemoryVersionSequenceTest extends VersionSequenceContract {
  @Override
  protected StorageEngine openEngine(BackendContext context) {
    return new MemoryEngine();
  }
}
