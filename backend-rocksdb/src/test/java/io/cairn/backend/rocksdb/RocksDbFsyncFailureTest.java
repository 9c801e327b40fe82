package io.cairn.backend.rocksdb;

import io.cairn.tck.fault.FsyncFailureContract;

/** Issue 10 item 11: a failed fsync under RocksDB at durability = full (see the contract). */
class RocksDbFsyncFailureTest extends FsyncFailureContract {
  @Override
  protected String backendType() {
    return RocksDbBackendProvider.TYPE;
  }
}
