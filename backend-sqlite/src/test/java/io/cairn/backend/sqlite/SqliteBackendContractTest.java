package io.cairn.backend.sqlite;

import io.cairn.tck.BackendContract;

class SqliteBackendContractTest extends BackendContract {
  @Override
  protected String backendConfig() {
    return "type = sqlite, durability = normal";
  }
}
