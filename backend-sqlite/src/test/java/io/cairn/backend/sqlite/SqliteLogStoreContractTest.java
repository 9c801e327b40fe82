package io.cairn.backend.sqlite;

import io.cairn.tck.LogStoreContract;

class SqliteLogStoreContractTest extends LogStoreContract {
  @Override
  protected String backendConfig() {
    return "type = sqlite, durability = normal";
  }
}
