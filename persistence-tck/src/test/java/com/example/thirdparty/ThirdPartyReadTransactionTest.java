package com.example.thirdparty;

import io.cairn.tck.ReadTransactionContract;

/** The example backend has no snapshot reads: the contract checks that it says so. */
class ThirdPartyReadTransactionTest extends ReadTransactionContract {
  @Override
  protected String backendConfig() {
    return "type = thirdparty";
  }
}
