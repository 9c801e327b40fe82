package com.example.thirdparty;

import io.cairn.tck.ModelBasedContract;

/** Runs the TCK's {@link ModelBasedContract} against the third-party backend. */
class ThirdPartyModelBasedTest extends ModelBasedContract {
  @Override
  protected String backendConfig() {
    return "type = thirdparty";
  }
}
