package com.example.thirdparty;

import io.cairn.tck.ConcurrencyContract;

/** Runs the TCK's {@link ConcurrencyContract} against the third-party backend. */
class ThirdPartyConcurrencyTest extends ConcurrencyContract {
  @Override
  protected String backendConfig() {
    return "type = thirdparty";
  }
}
