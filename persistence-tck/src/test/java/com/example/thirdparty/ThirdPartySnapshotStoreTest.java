package com.example.thirdparty;

import io.cairn.tck.SnapshotStoreContract;

/** Runs the TCK's {@link SnapshotStoreContract} against the third-party backend. */
class ThirdPartySnapshotStoreTest extends SnapshotStoreContract {
  @Override
  protected String backendConfig() {
    return "type = thirdparty";
  }
}
