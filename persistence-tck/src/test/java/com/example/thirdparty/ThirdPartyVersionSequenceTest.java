package com.example.thirdparty;

import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine;
import io.cairn.tck.engine.VersionSequenceContract;

/** Runs the base's version sequence over the third-party example's engine. */
class ThirdPartyVersionSequenceTest extends VersionSequenceContract {
  @Override
  protected StorageEngine openEngine(BackendContext context) {
    return ThirdPartyBackend.lock(context, ThirdPartyBackend.Mutation.NONE);
  }
}
