package com.example.thirdparty;

import io.cairn.tck.RestartContract;

/** Runs the TCK's {@link RestartContract} against the third-party backend. */
class ThirdPartyRestartTest extends RestartContract {
  @Override
  protected String backendConfig() {
    return "type = thirdparty";
  }
}
