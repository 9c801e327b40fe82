package io.cairn.backend.sqlite;

import io.cairn.tck.fault.FsyncFailureContract;

/** Issue 10 item 11: a failed fsync under SQLite at durability = full (see the contract). */
class SqliteFsyncFailureTest extends FsyncFailureContract {
  @Override
  protected String backendType() {
    return SqliteBackendProvider.TYPE;
  }
}
