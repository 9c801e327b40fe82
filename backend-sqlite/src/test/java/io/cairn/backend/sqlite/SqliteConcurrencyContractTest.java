package io.cairn.backend.sqlite;

import io.cairn.tck.ConcurrencyContract;

class SqliteConcurrencyContractTest extends ConcurrencyContract {
  @Override
  protected String backendConfig() {
    return "type = sqlite, durability = normal";
  }
}
