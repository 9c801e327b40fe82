package io.cairn.backend.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Hands out key-value versions from the schema's {@code kv_version} sequence in blocks of {@link
 * PostgresSchema#VERSION_BLOCK}, so a write seldom needs a round trip for its version (how versions
 * stay monotonic per key across processes: {@link PostgresKeyValueStore}). Thread-safe: the block
 * is guarded by this object's monitor; the sequence is the server's.
 */
final class PostgresVersions {
  // the current block of versions from kv_version: [nextVersion, versionLimit)
  private long nextVersion;
  private long versionLimit;
  // the highest version an import wrote through this backend (PostgresImporter); guarded by this
  private long importedFloor;

  /**
   * A version from the current block, or from a fresh block of {@code kv_version} when the block is
   * used up or {@code fresh} is set. A fresh block starts above every version any process was
   * handed before it.
   */
  long next(Connection c, boolean fresh) throws SQLException {
    synchronized (this) {
      if (!fresh && nextVersion < versionLimit && nextVersion > importedFloor) {
        return nextVersion++;
      }
    }
    while (true) {
      long start;
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT nextval('kv_version')")) {
        rs.next();
        start = rs.getLong(1);
      }
      synchronized (this) {
        if (start > nextVersion) {
          nextVersion = start;
          versionLimit = start + PostgresSchema.VERSION_BLOCK;
        }
        if (nextVersion > importedFloor) {
          return nextVersion++;
        }
        // a block taken before an import raised the sequence: the next one is above the import
      }
    }
  }

  /**
   * Raises {@code kv_version} after an import wrote versions up to {@code imported} that the
   * sequence never handed out, so that every block handed out afterwards, in any process, starts
   * above them; from then on this process hands out no version at or below {@code imported} (its
   * current block, or one taken by another thread before the raise, may lie below). Never lowers
   * the sequence: it is set only if its last value is at most {@code imported}, to {@code imported}
   * plus a margin of {@link #IMPORT_VERSION_MARGIN} versions. The margin covers the blocks that
   * other processes may take between the statement's read of the last value and its {@code setval}
   * (microseconds; up to a thousand blocks), so no block handed out in that window is handed out
   * again. A raise from a transaction that rolls back stays (sequences are not transactional): it
   * only skips versions, which is allowed. Other processes' current blocks may lie below {@code
   * imported}; their writes are conditional on the stored version being lower (see {@link
   * PostgresKeyValueStore}), so a write to an imported key takes a fresh block, above the import.
   */
  void imported(Connection c, long imported) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT setval('kv_version', ?, true) FROM kv_version WHERE last_value <= ?")) {
      ps.setLong(1, Math.addExact(imported, IMPORT_VERSION_MARGIN));
      ps.setLong(2, imported);
      ps.execute();
    }
    synchronized (this) {
      // after the raise: from now on no version at or below the import is handed out here
      importedFloor = Math.max(importedFloor, imported);
    }
  }

  /** See {@link #imported}: a thousand version blocks. */
  static final long IMPORT_VERSION_MARGIN = 1000L * PostgresSchema.VERSION_BLOCK;
}
