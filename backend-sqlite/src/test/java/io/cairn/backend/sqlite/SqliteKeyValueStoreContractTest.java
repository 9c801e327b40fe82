package io.cairn.backend.sqlite;

import io.cairn.tck.KeyValueStoreContract;

class SqliteKeyValueStoreContractTest extends KeyValueStoreContract {
  @Override
  protected String backendConfig() {
    return "type = sqlite, durability = normal";
  }
}
