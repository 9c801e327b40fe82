package com.example.thirdparty;

import io.cairn.tck.KeyValueStoreContract;

/** Runs the TCK's {@link KeyValueStoreContract} against the third-party backend. */
class ThirdPartyKeyValueStoreTest extends KeyValueStoreContract {
  @Override
  protected String backendConfig() {
    return "type = thirdparty";
  }
}
