package com.example.thirdparty;

import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine;
import io.cairn.tck.engine.ExpiryIndexContract;

/** Runs the base's expiry index over the third-party example's engine. */
class ThirdPartyExpiryIndexTest extends ExpiryIndexContract {
  @Override
  protected StorageEngine openEngine(BackendContext context) {
    return ThirdPartyBackend.lock(context, ThirdPartyBackend.Mutation.NONE);
  }
}
