package com.example.thirdparty;

import io.cairn.tck.ImporterContract;

/**
 * Runs the TCK's {@link ImporterContract} against the third-party backend (durable: reopen too).
 */
class ThirdPartyImporterTest extends ImporterContract {
  @Override
  protected String backendConfig() {
    return "type = thirdparty";
  }
}
