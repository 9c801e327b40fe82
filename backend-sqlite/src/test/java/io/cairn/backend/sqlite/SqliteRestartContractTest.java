package io.cairn.backend.sqlite;

import io.cairn.tck.RestartContract;

class SqliteRestartContractTest extends RestartContract {
  @Override
  protected String backendConfig() {
    return "type = sqlite, durability = normal";
  }
}
