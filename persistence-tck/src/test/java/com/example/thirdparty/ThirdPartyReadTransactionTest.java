package com.example.thirdparty;

import io.cairn.tck.ReadTransactionContract;

/**
 * The example engine offers no snapshots ({@code StorageEngine.snapshot()}: a copy of its maps
 * would cost O(data) per read transaction), so its backend has no snapshot reads: the contract
 * checks that it says so.
 */
class ThirdPartyReadTransactionTest extends ReadTransactionContract {
  @Override
  protected String backendConfig() {
    return "type = thirdparty";
  }
}
