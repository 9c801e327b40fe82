package io.cairn.backend.rocksdb;

import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine;
import io.cairn.tck.engine.ExpiryIndexContract;

/** Runs the base's expiry index over the RocksDB engine (layout 3, issue 12 port). */
class RocksEngineExpiryIndexTest extends ExpiryIndexContract {
  @Override
  protected StorageEngine openEngine(BackendContext context) {
    return RocksStorageEngine.open(context, RocksDbBackendProvider.config(context));
  }
}
