package com.example.thirdparty;

import io.cairn.tck.TransactionContract;

/** Runs the TCK's {@link TransactionContract} against the third-party backend. */
class ThirdPartyTransactionTest extends TransactionContract {
  @Override
  protected String backendConfig() {
    return "type = thirdparty";
  }
}
