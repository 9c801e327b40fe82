package com.example.thirdparty;

import io.cairn.tck.EncryptionContract;

/** The TCK's EncryptionContract: values, payloads and chunks sealed and bound to their place. */
class ThirdPartyEncryptionTest extends EncryptionContract {
  @Override
  protected String backendConfig() {
    return "type = thirdparty";
  }
}
