package io.cairn.backend.sqlite;

import io.cairn.tck.reliability.CorruptionMatrixContract;

/** The TCK's corruption matrix on the SQLite backend. */
class SqliteCorruptionMatrixTest extends CorruptionMatrixContract {
  @Override
  protected String backendConfig() {
    return "type = sqlite";
  }
}
