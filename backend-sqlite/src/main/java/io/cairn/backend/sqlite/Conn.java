package io.cairn.backend.sqlite;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;

/**
 * One JDBC connection with its prepared statements cached by SQL text. Not thread-safe: a {@code
 * Conn} is used by one thread at a time (the writer under its lock, a reader while borrowed).
 */
final class Conn implements AutoCloseable {
  private final Connection jdbc;
  private final Map<String, PreparedStatement> statements = new HashMap<>();

  Conn(Connection jdbc) {
    this.jdbc = jdbc;
  }

  /**
   * The cached prepared statement for {@code sql}, preparing it on first use.
   *
   * <p>After any failed step other than BUSY, LOCKED, MISUSE or SCHEMA (SQLITE_FULL, IOERR,
   * CONSTRAINT...), sqlite-jdbc finalizes the statement's native handle but leaves the Java object
   * looking open, and every later use fails with "statement is not executing". So whoever sees an
   * {@link SQLException} from a cached statement calls {@link #resetStatements()}.
   */
  PreparedStatement prepare(String sql) throws SQLException {
    PreparedStatement ps = statements.get(sql);
    if (ps == null) {
      ps = jdbc.prepareStatement(sql);
      statements.put(sql, ps);
    }
    return ps;
  }

  /** Runs a statement that returns no rows (BEGIN, COMMIT, DDL, PRAGMA assignments). */
  void exec(String sql) throws SQLException {
    prepare(sql).execute();
  }

  /** Runs {@code sql} once without caching it (one-off PRAGMAs and DDL). */
  void execOnce(String sql) throws SQLException {
    try (Statement s = jdbc.createStatement()) {
      s.execute(sql);
    }
  }

  /** First column of the first row of {@code sql} as a string, or null for no row. */
  String queryString(String sql) throws SQLException {
    try (Statement s = jdbc.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /** First column of the first row of {@code sql} as a long (0 for no row or NULL). */
  long queryLong(String sql) throws SQLException {
    try (Statement s = jdbc.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  /**
   * Runs {@code ps}, a write with a {@code RETURNING} clause that yields at most one row, and
   * returns that row's first column, or {@code absent} if it yielded none.
   *
   * <p>The statement is always stepped to its end before it is closed. In autocommit (a lone write,
   * see {@link Writer}) SQLite commits when the statement finishes; a statement that is reset after
   * its first row instead of stepped to completion still commits, but SQLite then skips the WAL
   * hook, so {@code wal_autocheckpoint} never ran and the WAL grew by one frame per write without
   * bound (1.2 GB after 260,000 puts). {@code SqliteWalBoundTest} guards this.
   */
  static long returningLong(PreparedStatement ps, long absent) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      long value = rs.next() ? rs.getLong(1) : absent;
      while (rs.next()) {
        // drain to SQLITE_DONE (see above); a single-row RETURNING has no more rows
      }
      return value;
    }
  }

  Connection jdbc() {
    return jdbc;
  }

  /**
   * Closes every cached statement; each is prepared again on its next use. Called after an engine
   * failure, so no statement is left half-run (holding a lock or a read transaction) or closed
   * under the cache.
   */
  void resetStatements() {
    for (PreparedStatement ps : statements.values()) {
      try {
        ps.close();
      } catch (SQLException ignored) {
        // closing anyway
      }
    }
    statements.clear();
  }

  /** Closes every cached statement, then the connection. Never throws. */
  @Override
  public void close() {
    resetStatements();
    try {
      jdbc.close();
    } catch (SQLException ignored) {
      // nothing more can be done; the handle is released by the driver
    }
  }
}
