package io.cairn.backend.memory;

import io.cairn.tck.ReadTransactionContract;

class MemoryReadTransactionTest extends ReadTransactionContract {
  @Override
  protected String backendConfig() {
    return "type = memory";
  }
}
