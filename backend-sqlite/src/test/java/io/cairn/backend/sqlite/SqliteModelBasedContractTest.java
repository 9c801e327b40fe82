package io.cairn.backend.sqlite;

import io.cairn.tck.ModelBasedContract;

class SqliteModelBasedContractTest extends ModelBasedContract {
  @Override
  protected String backendConfig() {
    return "type = sqlite, durability = normal";
  }
}
