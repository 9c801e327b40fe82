package com.example.thirdparty;

import io.cairn.tck.BackendContract;

/** Runs the TCK's {@link BackendContract} against the third-party backend. */
class ThirdPartyBackendTest extends BackendContract {
  @Override
  protected String backendConfig() {
    return "type = thirdparty";
  }
}
