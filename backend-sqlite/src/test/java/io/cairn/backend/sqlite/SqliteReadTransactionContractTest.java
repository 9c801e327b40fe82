package io.cairn.backend.sqlite;

import io.cairn.tck.ReadTransactionContract;

class SqliteReadTransactionContractTest extends ReadTransactionContract {
  @Override
  protected String backendConfig() {
    return "type = sqlite, durability = normal";
  }
}
