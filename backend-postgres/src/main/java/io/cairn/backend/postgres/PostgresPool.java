package io.cairn.backend.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.CallGuard;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections of a {@link PostgresBackend} and every call on them: the HikariCP pool of pgjdbc
 * connections, one-statement calls, transactions (serialised across processes by the schema's
 * advisory lock when asked), and scans. Each call runs inside the backend's {@link CallGuard}, so
 * {@code close()} waits for calls in flight and a call after close throws {@link
 * io.cairn.persistence.BackendClosedException}; SQL errors are translated by {@link
 * PostgresErrors}.
 *
 * <h2>Connections</h2>
 *
 * Each operation borrows a connection for its duration; a transaction holds one for the work; an
 * open scan holds one until it is exhausted or closed (its server-side cursor lives in a
 * transaction on that connection), so at most {@code pool-size} scans and transactions run at once
 * and further operations wait up to {@code connect-timeout} for a connection. Close scans.
 *
 * <p>Every connection runs {@code SET search_path} to the backend's schema and {@code SET
 * synchronous_commit} for its durability (see {@link PostgresBackend}) when the pool opens it.
 *
 * <p>Thread-safe.
 */
final class PostgresPool {
  private static final Logger log = LoggerFactory.getLogger(PostgresPool.class);

  /** Work on one connection. */
  @FunctionalInterface
  interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  private final HikariDataSource pool;
  private final PostgresSettings settings;
  private final PostgresErrors errors;
  private final CallGuard guard;
  private final Clock clock;
  private final String describe;
  private final Set<Scan> openScans = ConcurrentHashMap.newKeySet();

  PostgresPool(
      HikariDataSource pool,
      PostgresSettings settings,
      PostgresErrors errors,
      CallGuard guard,
      Clock clock,
      String describe) {
    this.pool = pool;
    this.settings = settings;
    this.errors = errors;
    this.guard = guard;
    this.clock = clock;
    this.describe = describe;
  }

  /**
   * Opens the pool: its first connection is made within {@code connect-timeout}, or this throws
   * {@link PostgresUnavailableException} naming the backend and what to check.
   */
  static HikariDataSource connect(BackendContext ctx, PostgresSettings settings, String describe) {
    HikariConfig hc = new HikariConfig();
    hc.setPoolName("cairn-postgres-" + ctx.name());
    hc.setJdbcUrl(settings.jdbcUrl());
    if (!settings.user().isEmpty()) {
      hc.setUsername(settings.user());
    }
    String password = settings.passwordSource().read(System::getenv);
    if (password != null) {
      hc.setPassword(password);
    }
    hc.setMaximumPoolSize(settings.poolSize());
    hc.setMinimumIdle(Math.min(2, settings.poolSize()));
    long connectMillis = settings.connectTimeout().toMillis();
    hc.setConnectionTimeout(connectMillis);
    // also the socket timeout while Hikari sets a new connection up: on a loaded machine 5s was
    // seen to pass, closing a healthy connection
    hc.setValidationTimeout(Math.max(250, connectMillis));
    hc.setInitializationFailTimeout(connectMillis);
    hc.addDataSourceProperty(
        "connectTimeout", String.valueOf(Math.max(1, (connectMillis + 999) / 1000)));
    hc.addDataSourceProperty("tcpKeepAlive", "true");
    hc.addDataSourceProperty("ApplicationName", "cairn " + ctx.name());
    // Server error details and failed batch entries quote the row (keys, values): keep stored
    // data out of exception messages and logs.
    hc.addDataSourceProperty("logServerErrorDetail", "false");
    hc.setConnectionInitSql(
        "SET search_path TO "
            + settings.schema()
            + "; SET synchronous_commit TO "
            + PostgresBackend.synchronousCommit(ctx.durability()));
    try {
      return new HikariDataSource(hc);
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() instanceof SQLException ? e.getCause() : e;
      throw new PostgresUnavailableException(
          "Cannot open "
              + describe
              + ": no connection within connect-timeout "
              + io.cairn.persistence.spi.Settings.human(settings.connectTimeout())
              + ": "
              + cause.getMessage()
              + ". Check jdbc-url, user and password, and that the server is running and"
              + " reachable; opening again later may succeed.",
          e);
    }
  }

  /** The pool's counts, for the gauges and stats. */
  HikariPoolMXBean counts() {
    return pool.getHikariPoolMXBean();
  }

  /** Runs {@code work} on a pooled connection in autocommit mode (one statement, one commit). */
  <T> T call(String op, Object where, SqlWork<T> work) {
    guard.enter();
    try (Connection c = pool.getConnection()) {
      T result = work.run(c);
      errors.succeeded();
      return result;
    } catch (SQLException e) {
      throw errors.translate(e, op, where, false);
    } finally {
      guard.exit();
    }
  }

  /** Runs {@code work} in one transaction on a pooled connection. */
  <T> T transaction(String op, Object where, SqlWork<T> work) {
    return transaction(op, where, false, work);
  }

  /**
   * Same as {@link #transaction(String, Object, SqlWork)}, serialised with every other serialised
   * transaction on the schema, in every process (the session-level advisory lock): {@code
   * inTransaction} and {@code putAll}.
   */
  <T> T serialisedTransaction(String op, Object where, SqlWork<T> work) {
    return transaction(op, where, true, work);
  }

  private <T> T transaction(String op, Object where, boolean serialise, SqlWork<T> work) {
    guard.enter();
    boolean committing = false;
    try (Connection c = pool.getConnection()) {
      boolean locked = false;
      try {
        if (serialise) {
          advisory(c, "pg_advisory_lock");
          locked = true;
        }
        c.setAutoCommit(false);
        T result;
        try {
          result = work.run(c);
          committing = true;
          c.commit();
        } catch (SQLException | RuntimeException | Error e) {
          if (!committing) {
            rollbackQuietly(c, e);
          }
          throw e;
        }
        errors.succeeded();
        return result;
      } finally {
        if (locked) {
          unlockQuietly(c);
        }
      }
    } catch (SQLException e) {
      throw errors.translate(e, op, where, committing);
    } finally {
      guard.exit();
    }
  }

  private void advisory(Connection c, String function) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + function + "(?, ?)")) {
      ps.setInt(1, PostgresSchema.LOCK_CLASS_TX);
      ps.setInt(2, PostgresSchema.lockKey(settings.schema()));
      ps.execute();
    }
  }

  private void unlockQuietly(Connection c) {
    try {
      if (!c.getAutoCommit()) {
        c.rollback(); // a failed commit leaves nothing to roll back; the unlock needs a statement
        c.setAutoCommit(true);
      }
      advisory(c, "pg_advisory_unlock");
    } catch (SQLException e) {
      // The session lock goes with the session: make the pool drop this connection.
      log.debug("{}: could not release the transaction lock: {}", describe, e.toString());
      try {
        c.abort(Runnable::run);
      } catch (SQLException ignored) {
        // already broken
      }
    }
  }

  private static void rollbackQuietly(Connection c, Throwable cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  // ---- scans: a server-side cursor in a transaction on a connection held by the iterator ----

  /** Builds the scan's query on the scan's connection. */
  @FunctionalInterface
  interface QueryBuilder {
    PreparedStatement prepare(Connection c) throws SQLException;
  }

  /** Turns a row into an entry, or null to skip it (expired). */
  @FunctionalInterface
  interface RowReader {
    Entry read(ResultSet rs, long now) throws SQLException;
  }

  CloseableIterator<Entry> openScan(String where, QueryBuilder query, RowReader reader) {
    guard.enter();
    try {
      Connection c = pool.getConnection();
      try {
        c.setAutoCommit(false); // pgjdbc streams with a cursor only inside a transaction
        c.setReadOnly(true);
        PreparedStatement ps = query.prepare(c);
        ps.setFetchSize(settings.scanFetchSize());
        ResultSet rs = ps.executeQuery();
        Scan scan = new Scan(where, c, ps, rs, reader, clock.millis());
        openScans.add(scan);
        return scan;
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException ignored) {
          // the connection goes back to the pool, which resets or discards it
        }
        c.close();
        throw e;
      }
    } catch (SQLException e) {
      throw errors.translate(e, "scan", where, false);
    } finally {
      guard.exit();
    }
  }

  private final class Scan implements CloseableIterator<Entry> {
    private final String where;
    private final Connection c;
    private final PreparedStatement ps;
    private final ResultSet rs;
    private final RowReader reader;
    private final long now;
    private Entry next;
    private boolean done;

    Scan(
        String where,
        Connection c,
        PreparedStatement ps,
        ResultSet rs,
        RowReader reader,
        long now) {
      this.where = where;
      this.c = c;
      this.ps = ps;
      this.rs = rs;
      this.reader = reader;
      this.now = now;
    }

    @Override
    public synchronized boolean hasNext() {
      if (next != null) {
        return true;
      }
      if (done) {
        if (guard.isClosed()) {
          throw errors.closedException();
        }
        return false;
      }
      guard.enter();
      try {
        while (rs.next()) {
          Entry e = reader.read(rs, now);
          if (e != null) {
            next = e;
            return true;
          }
        }
        release();
        return false;
      } catch (SQLException e) {
        release();
        throw errors.translate(e, "scan", where, false);
      } catch (RuntimeException e) {
        release();
        throw e;
      } finally {
        guard.exit();
      }
    }

    @Override
    public synchronized Entry next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Entry e = next;
      next = null;
      return e;
    }

    /** Ends the cursor's transaction and returns the connection; idempotent. */
    synchronized void release() {
      if (done) {
        return;
      }
      done = true;
      openScans.remove(this);
      try {
        rs.close();
        ps.close();
        c.rollback();
      } catch (SQLException e) {
        log.debug("{}: closing a scan: {}", describe, e.toString());
      } finally {
        try {
          c.close();
        } catch (SQLException e) {
          log.debug("{}: returning a scan's connection: {}", describe, e.toString());
        }
      }
    }

    @Override
    public void close() {
      next = null;
      release();
    }
  }

  /**
   * Ends the open scans and closes the pool. Runs inside {@link CallGuard#drain}: no call is in
   * flight.
   */
  void close() {
    for (Scan s : List.copyOf(openScans)) {
      s.release();
    }
    pool.close();
  }
}
