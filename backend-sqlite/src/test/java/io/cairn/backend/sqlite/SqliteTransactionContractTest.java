package io.cairn.backend.sqlite;

import io.cairn.tck.TransactionContract;

class SqliteTransactionContractTest extends TransactionContract {
  @Override
  protected String backendConfig() {
    return "type = sqlite, durability = normal";
  }
}
