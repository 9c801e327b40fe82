package io.cairn.backend.sqlite;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine;
import io.cairn.tck.engine.ExpiryIndexContract;

/** The base's expiry index over the SQLite engine (engine calls counted, builds redone). */
class SqliteEngineExpiryIndexTest extends ExpiryIndexContract {
  @Override
  protected StorageEngine openEngine(BackendContext context) {
    BackendContext withDefaults =
        BackendContext.builder(context.name(), context.type())
            .config(ConfigFactory.load().getConfig("cairn.backend-defaults.sqlite"))
            .dataDir(context.dataDir())
            .durability(context.durability())
            .metrics(context.metrics())
            .clock(context.clock())
            .events(context.events())
            .build();
    return SqliteEngine.open(withDefaults);
  }
}
