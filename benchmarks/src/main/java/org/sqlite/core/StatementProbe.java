package org.sqlite.core;

import java.sql.Connection;
import java.sql.SQLException;
import org.sqlite.SQLiteConnection;

/**
 * Benchmark-only probe (never product code): runs one prepared point query through sqlite-jdbc's
 * internal {@link DB} layer (bind, step, column, reset) without the JDBC {@code ResultSet}, so a
 * measurement can separate the native engine's cost from the JDBC layer's (result set object,
 * column names fetched on every {@code executeQuery}, a checked call per column). It lives in
 * sqlite-jdbc's package because those methods are package-private; it breaks if sqlite-jdbc changes
 * them (the version is pinned in the parent pom). Not thread-safe: one probe per thread.
 */
public final class StatementProbe implements AutoCloseable {
  private static final int SQLITE_ROW = 100;
  private static final int SQLITE_DONE = 101;
  private final DB db;
  private final SafeStmtPtr stmt;
  private final long ptr;
  private final String ns;
  private final int longColumns;

  /**
   * @param sql a query whose first column is a blob and whose next {@code longColumns} are integers
   * @param ns the text bound to parameter 1 before the key, or null for a key-only query
   */
  public StatementProbe(Connection conn, String sql, String ns, int longColumns)
      throws SQLException {
    this.db = conn.unwrap(SQLiteConnection.class).getDatabase();
    this.stmt = db.prepare(sql);
    this.ptr = stmt.safeRunLong((d, p) -> p);
    this.ns = ns;
    this.longColumns = longColumns;
  }

  /** The first column of the row of {@code key}, or null; reads the integer columns too. */
  public byte[] get(byte[] key) throws SQLException {
    synchronized (db) {
      int i = 1;
      if (ns != null) {
        check(db.bind_text(ptr, i++, ns));
      }
      check(db.bind_blob(ptr, i, key));
      try {
        int rc = db.step(ptr);
        if (rc == SQLITE_DONE) {
          return null;
        }
        if (rc != SQLITE_ROW) {
          db.throwex(rc);
        }
        byte[] value = db.column_blob(ptr, 0);
        long sum = 0;
        for (int c = 1; c <= longColumns; c++) {
          sum += db.column_long(ptr, c);
        }
        return sum == Long.MIN_VALUE ? null : value; // keep the reads live
      } finally {
        db.reset(ptr);
      }
    }
  }

  private void check(int rc) throws SQLException {
    if (rc != 0) {
      db.throwex(rc);
    }
  }

  @Override
  public void close() throws SQLException {
    stmt.close();
  }
}
