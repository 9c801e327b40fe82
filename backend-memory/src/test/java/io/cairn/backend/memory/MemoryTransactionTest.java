package io.cairn.backend.memory;

import io.cairn.tck.TransactionContract;

class MemoryTransactionTest extends TransactionContract {
  @Override
  protected String backendConfig() {
    return "type = memory";
  }
}
