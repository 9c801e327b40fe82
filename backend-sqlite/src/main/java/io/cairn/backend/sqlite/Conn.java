package io.cairn.backend.sqlite;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.sqlite.core.CoreStatement;
import org.sqlite.core.DB;
import org.sqlite.core.SafeStmtPtr;

/**
 * One JDBC connection with its prepared statements cached by SQL text. Not thread-safe: a {@code
 * Conn} is used by one thread at a time (the writer under its lock, a reader while borrowed).
 */
final class Conn implements AutoCloseable {
  private final Connection jdbc;
  private final Map<String, PreparedStatement> statements = new HashMap<>();

  /** At most this many statements in {@link #pointStatements}; the least recently used goes. */
  static final int POINT_STATEMENTS = 64;

  // Statements of one store each (SqliteEngine's point get with the store written into its text),
  // kept apart from the fixed statements so that many stores cannot grow the cache without bound:
  // the least recently used is closed when a new one comes in (never one in use: a Conn serves one
  // call at a time and a point query is reset before it returns).
  private final Map<String, PreparedStatement> pointStatements =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, PreparedStatement> eldest) {
          if (size() <= POINT_STATEMENTS) {
            return false;
          }
          closeQuietly(eldest.getValue());
          return true;
        }
      };
  // queryBlob's parameter and result holders, reused: a Conn serves one call at a time
  private final Object[] oneParam = new Object[1];
  private final byte[][] oneBlob = new byte[1][];
  private static final long[] NO_LONGS = new long[0];

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

  /**
   * Runs the cached point query {@code sql} with {@code params} bound in order (each a String,
   * byte[], Long or Integer) and returns whether it yielded a row; if it did, {@code blob[0]} is
   * the row's first column (a blob) and {@code longs[i]} its column {@code i + 1} (integers, 0 for
   * NULL). Only the first row is read. The statement is reset before this returns, so no read
   * transaction stays open.
   *
   * <p>Why not {@code executeQuery}: sqlite-jdbc's result set fetches every column's name from the
   * engine on each {@code executeQuery} (a native call and a Java string per column) and makes two
   * checked native calls per {@code getLong}; on a 4-column point get that JDBC layer cost as much
   * CPU as the engine's whole lookup (benchmarks/RESULTS-sqlite.md, issue 15). This runs the same
   * sqlite-jdbc code that {@code executeQuery} runs to bind and step ({@code DB.execute}), then
   * reads the columns with one native call each, through the driver's public {@code
   * org.sqlite.core} methods (the version is pinned in the parent pom; a change there fails this
   * module's compilation or its tests). Errors are those of {@code executeQuery}: after an error
   * other than BUSY, LOCKED, CONSTRAINT or MISUSE the driver has finalized the statement, so the
   * caller calls {@link #resetStatements()} on any {@link SQLException}, as for every cached
   * statement.
   */
  boolean queryRow(String sql, Object[] params, byte[][] blob, long[] longs) throws SQLException {
    return step((CoreStatement) prepare(sql), params, blob, longs);
  }

  /** {@link #queryRow}'s work on a statement already prepared. */
  private static boolean step(CoreStatement st, Object[] params, byte[][] blob, long[] longs)
      throws SQLException {
    DB db = st.getDatabase();
    synchronized (db) { // the driver's own lock, taken once instead of per native call
      if (!db.execute(st, params)) {
        return false; // SQLITE_DONE: the driver has reset the statement
      }
      SafeStmtPtr pointer = st.pointer;
      long stmt = pointer.safeRunLong(Conn::handle);
      try {
        blob[0] = db.column_blob(stmt, 0);
        for (int i = 0; i < longs.length; i++) {
          longs[i] = db.column_long(stmt, i + 1);
        }
        return true;
      } finally {
        if (!pointer.isClosed()) {
          db.reset(stmt); // ends the statement's read; its return code repeats the step's
        }
      }
    }
  }

  /**
   * Runs {@code sql}, a point query with one parameter (bound to {@code param}) whose first column
   * is a blob, and returns that column of its first row, or null for no row: {@link #queryRow} for
   * a statement of one store, cached among the {@link #POINT_STATEMENTS} most recently used. One
   * bound parameter instead of three: binding the store's name encoded it to UTF-8 and crossed into
   * the driver's native code on every get (about 3 % of a get's CPU). Errors as for {@link
   * #queryRow}.
   */
  byte[] queryBlob(String sql, byte[] param) throws SQLException {
    PreparedStatement ps = pointStatements.get(sql);
    if (ps == null) {
      ps = jdbc.prepareStatement(sql);
      pointStatements.put(sql, ps);
    }
    oneParam[0] = param;
    try {
      return step((CoreStatement) ps, oneParam, oneBlob, NO_LONGS) ? oneBlob[0] : null;
    } finally {
      oneParam[0] = null; // holds no caller's key or value after the call
      oneBlob[0] = null;
    }
  }

  /** How many statements {@link #queryBlob} keeps open now; for tests. */
  int pointStatementCount() {
    return pointStatements.size();
  }

  private static void closeQuietly(PreparedStatement ps) {
    try {
      ps.close();
    } catch (SQLException ignored) {
      // closing anyway; the driver releases the handle with the connection
    }
  }

  private static long handle(DB db, long stmt) {
    return stmt;
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

  /** Work on a connection that may fail with an {@link SQLException}. */
  interface SqlWork {
    void run() throws SQLException;
  }

  /**
   * Runs {@code work} in one {@code BEGIN IMMEDIATE ... COMMIT} with statements not cached (the
   * one-off schema work at open: creation and migrations); on any failure rolls the whole
   * transaction back and rethrows, so the file is as it was.
   */
  void inOneTransaction(SqlWork work) throws SQLException {
    execOnce("BEGIN IMMEDIATE");
    try {
      work.run();
      execOnce("COMMIT");
    } catch (SQLException | RuntimeException e) {
      try {
        execOnce("ROLLBACK");
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
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
      closeQuietly(ps);
    }
    statements.clear();
    for (PreparedStatement ps : pointStatements.values()) {
      closeQuietly(ps);
    }
    pointStatements.clear();
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
