package io.cairn.backend.sqlite;

import io.cairn.persistence.Durability;
import io.cairn.tck.BackendTck;
import io.cairn.tck.TckDurabilities;

/**
 * The whole TCK on the SQLite engine over the shared base (test type {@code sqlite-base}, issue 12
 * port) at each durability SQLite accepts. Becomes {@code SqliteTckTest} at the provider switch.
 */
@TckDurabilities({Durability.NONE, Durability.NORMAL, Durability.FULL})
class SqliteBaseTckTest extends BackendTck {
  @Override
  protected String backendConfig(Durability durability) {
    return "type = " + SqliteBaseProvider.TYPE + ", durability = " + durability.configName();
  }
}
