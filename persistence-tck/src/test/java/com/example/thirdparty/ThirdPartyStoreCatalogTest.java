package com.example.thirdparty;

import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine;
import io.cairn.tck.engine.StoreCatalogContract;

/** Runs the base's catalog of logs and snapshot sets over the third-party example's engine. */
class ThirdPartyStoreCatalogTest extends StoreCatalogContract {
  @Override
  protected StorageEngine openEngine(BackendContext context) {
    return ThirdPartyBackend.lock(context, ThirdPartyBackend.Mutation.NONE);
  }
}
