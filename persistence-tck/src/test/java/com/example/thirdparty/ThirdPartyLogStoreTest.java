package com.example.thirdparty;

import io.cairn.tck.LogStoreContract;

/** Runs the TCK's {@link LogStoreContract} against the third-party backend. */
class ThirdPartyLogStoreTest extends LogStoreContract {
  @Override
  protected String backendConfig() {
    return "type = thirdparty";
  }
}
