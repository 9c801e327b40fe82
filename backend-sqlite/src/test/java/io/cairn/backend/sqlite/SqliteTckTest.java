package io.cairn.backend.sqlite;

import io.cairn.persistence.Durability;
import io.cairn.tck.BackendTck;
import io.cairn.tck.TckDurabilities;

/**
 * The whole TCK on SQLite (the engine on the shared base, {@link SqliteBackendProvider}) at each
 * durability it accepts.
 */
@TckDurabilities({Durability.NONE, Durability.NORMAL, Durability.FULL})
class SqliteTckTest extends BackendTck {
  @Override
  protected String backendConfig(Durability durability) {
    return "type = sqlite, durability = " + durability.configName();
  }
}
