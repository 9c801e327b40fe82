package io.cairn.backend.sqlite;

import com.codahale.metrics.Histogram;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The single writer connection and its group commit.
 *
 * <p><b>Group commit.</b> A write enqueues itself and then takes the writer lock. Whoever holds the
 * lock drains up to {@code max-batch} queued writes, runs them in one {@code BEGIN IMMEDIATE ...
 * COMMIT} and completes them all. A write of several statements runs under its own {@code
 * SAVEPOINT}, so if it fails it does not undo the others; a single-statement write runs without one
 * (SQLite's statements are atomic), and if one of those fails the whole batch is rolled back and
 * run again with a savepoint around every write, so failures stay isolated either way. Writers that
 * queued meanwhile are parked; the leader unparks each as it completes their write, and on release
 * unparks the oldest still-queued writer to lead the next batch. So N threads writing at {@code
 * durability = full} share one fsync per batch instead of queueing for one each; a lone writer runs
 * its own write directly, with no thread hand-off. A batch of one single-statement write runs in
 * autocommit mode, saving the BEGIN/COMMIT round trips.
 *
 * <p><b>Acknowledgement.</b> A write returns only after the COMMIT holding it returned, so it is as
 * durable as {@code PRAGMA synchronous} makes that commit. If the COMMIT fails every write of the
 * batch fails.
 *
 * <p><b>Own transactions.</b> {@link #ownTransaction} and {@link #exclusive} hold the lock for the
 * caller's whole work, so they are serialised with batches. A write issued from inside a write's
 * own work (the writer re-entered on its thread) would deadlock, so it is refused.
 *
 * <p>Thread-safe.
 */
final class Writer implements AutoCloseable {
  /** A unit of writing run on the writer connection. */
  @FunctionalInterface
  interface WriteOp<T> {
    T apply(Session s) throws SQLException;
  }

  /** What a write sees: the writer connection. Used under the lock only. */
  static final class Session {
    private final Conn conn;

    Session(Conn conn) {
      this.conn = conn;
    }

    Conn conn() {
      return conn;
    }

    /**
     * After an engine failure (disk full, I/O error...): drops every prepared statement, so the
     * next write starts from fresh statements on a connection with no transaction left open.
     */
    void recover() {
      conn.resetStatements();
    }
  }

  private static final class Pending<T> {
    final WriteOp<T> op;
    final boolean singleStatement;
    final String what;
    final Object where;
    T result;
    RuntimeException error;
    final Thread waiter = Thread.currentThread();
    volatile boolean done; // set after result/error, so reading it publishes them

    void reset() {
      result = null;
      error = null;
    }

    void complete() {
      done = true;
      LockSupport.unpark(waiter);
    }

    Pending(WriteOp<T> op, boolean singleStatement, String what, Object where) {
      this.op = op;
      this.singleStatement = singleStatement;
      this.what = what;
      this.where = where;
    }
  }

  private final Session session;
  private final WalGuard guard;
  private final SqliteErrors errors;
  private final int maxBatch;
  private final Histogram batchSizes;
  private final ReentrantLock lock = new ReentrantLock();
  private final ConcurrentLinkedQueue<Pending<?>> queue = new ConcurrentLinkedQueue<>();
  private final List<Pending<?>> batch = new ArrayList<>();
  private volatile boolean closed;

  /**
   * @param guard records the WAL position after every commit, and the clean state at close (see
   *     {@link WalGuard}); closed with the writer
   */
  Writer(Conn conn, SqliteErrors errors, int maxBatch, Histogram batchSizes, WalGuard guard) {
    this.guard = guard;
    this.session = new Session(conn);
    this.errors = errors;
    this.maxBatch = maxBatch;
    this.batchSizes = batchSizes;
  }

  /**
   * Runs {@code op} in the next group commit and returns its result once committed.
   *
   * @param singleStatement whether {@code op} issues exactly one write statement (allows autocommit
   *     when it runs alone)
   * @param what the operation, for error messages, e.g. {@code put}
   * @param where the store and key, for error messages; its {@code toString()} is called only if
   *     something fails
   */
  <T> T submit(boolean singleStatement, String what, Object where, WriteOp<T> op) {
    if (closed) {
      throw errors.closedException();
    }
    errors.beforeWrite();
    refuseReentry(what, where);
    Pending<T> p = new Pending<>(op, singleStatement, what, where);
    queue.add(p);
    while (!p.done) {
      if (lock.tryLock()) {
        try {
          while (!p.done) {
            runBatch();
          }
        } finally {
          unlockAndHandOff();
        }
      } else {
        // the leader completes (and unparks) us, or unparks us to lead the next batch
        LockSupport.park(this);
      }
    }
    if (p.error != null) {
      throw p.error;
    }
    return p.result;
  }

  /**
   * Runs {@code body} in a transaction of its own on the writer connection, holding the writer for
   * its whole duration: commits if {@code body} returns, rolls back and rethrows if it throws. With
   * {@code fsync} the COMMIT reaches the disk whatever the configured durability: the transaction
   * runs at {@code PRAGMA synchronous = FULL} (in WAL mode the WAL is fsynced at that commit, which
   * also covers every commit before it in the WAL) and the connection's own level is restored
   * afterwards: a batch the base asks at a durability above the connection's (imports, the expiry
   * index marker).
   *
   * @param what the operation, for error messages
   * @param where the store, for error messages; its {@code toString()} is called only on failure
   * @throws IllegalStateException if called from inside a transaction
   */
  <T> T ownTransaction(String what, Object where, boolean fsync, WriteOp<T> body) {
    refuseReentry(what, where);
    return transaction(what, where, fsync, body);
  }

  /** Throws if the calling thread holds the writer: it runs inside a write's own work. */
  private void refuseReentry(String what, Object where) {
    if (lock.isHeldByCurrentThread()) {
      throw new IllegalStateException(
          "Cannot "
              + what
              + " on "
              + SqliteErrors.describe(where)
              + " from inside a write on the same SQLite writer (it holds the writer's lock and"
              + " would wait for itself); issue the write after the running one returns");
    }
  }

  private <T> T transaction(String what, Object where, boolean fsync, WriteOp<T> body) {
    lock.lock();
    try {
      if (closed) {
        throw errors.closedException();
      }
      errors.beforeWrite();
      Conn c = session.conn;
      long restore = -1; // the synchronous level to put back, or -1
      try {
        if (fsync) {
          long level = c.queryLong("PRAGMA synchronous");
          if (level < 2) { // OFF or NORMAL
            c.execOnce("PRAGMA synchronous = FULL");
            restore = level;
          }
        }
        c.exec("BEGIN IMMEDIATE");
      } catch (SQLException e) {
        session.recover();
        restoreSynchronous(restore);
        throw errors.translate(e, "begin " + what, SqliteErrors.describe(where));
      }
      try {
        return commitTransaction(what, where, body);
      } finally {
        restoreSynchronous(restore);
      }
    } finally {
      unlockAndHandOff();
    }
  }

  // Runs under the lock, inside the transaction just begun.
  private <T> T commitTransaction(String what, Object where, WriteOp<T> body) {
    Conn c = session.conn;
    T result;
    try {
      result = body.apply(session);
    } catch (SQLException e) {
      rollback(e);
      throw errors.translate(e, what, SqliteErrors.describe(where));
    } catch (RuntimeException | Error e) {
      rollback(e);
      throw e;
    }
    try {
      c.exec("COMMIT");
    } catch (SQLException e) {
      rollback(e);
      errors.noteFailure(e);
      throw errors.translate(e, "commit " + what, SqliteErrors.describe(where));
    }
    errors.noteSuccess();
    guard.afterCommit();
    return result;
  }

  /**
   * Puts the connection's {@code PRAGMA synchronous} back to {@code level} (nothing if -1). If that
   * fails the connection stays at FULL: every commit then fsyncs, slower but never less durable
   * than configured, so it is logged and not thrown over the committed write.
   */
  private void restoreSynchronous(long level) {
    if (level < 0) {
      return;
    }
    try {
      session.conn.execOnce("PRAGMA synchronous = " + level);
    } catch (SQLException e) {
      org.slf4j.LoggerFactory.getLogger(Writer.class)
          .warn(
              "Could not set PRAGMA synchronous back to {} after a durable transaction ({}); the"
                  + " writer keeps fsyncing every commit until the backend is reopened",
              level,
              e.toString());
    }
  }

  /** Runs {@code body} on the writer connection outside any batch (maintenance: checkpoint). */
  <T> T exclusive(String what, WriteOp<T> body) {
    refuseReentry(what, "the database");
    lock.lock();
    try {
      if (closed) {
        throw errors.closedException();
      }
      errors.beforeWrite();
      try {
        T result = body.apply(session);
        guard.afterCommit();
        return result;
      } catch (SQLException e) {
        session.recover();
        throw errors.translate(e, what, null);
      }
    } finally {
      unlockAndHandOff();
    }
  }

  /**
   * Releases the writer and wakes the oldest queued writer, which then leads the next batch.
   * Waiting writers park instead of queueing on the lock, so finished writers never have to take
   * the lock just to learn that their write is done.
   */
  private void unlockAndHandOff() {
    lock.unlock();
    Pending<?> next = queue.peek();
    if (next != null) {
      LockSupport.unpark(next.waiter);
    }
  }

  /** The last commit failure message, or null if the last commit succeeded. */
  String lastFailure() {
    return errors.lastFailure();
  }

  // Runs under the lock.
  private void runBatch() {
    batch.clear();
    Pending<?> next;
    while (batch.size() < maxBatch && (next = queue.poll()) != null) {
      batch.add(next);
    }
    if (batch.isEmpty()) {
      return;
    }
    if (closed) {
      for (Pending<?> p : batch) {
        fail(p, errors.closedException());
      }
      return;
    }
    batchSizes.update(batch.size());
    Conn c = session.conn;
    if (batch.size() == 1) {
      Pending<?> only = batch.get(0);
      if (only.singleStatement) {
        runAlone(only);
      } else {
        runInOwnTransaction(only);
      }
      return;
    }
    // Optimistic pass: single-statement writes run without a savepoint of their own (a savepoint
    // and its release cost as much as the write). If one of them fails, nothing is committed: the
    // batch is rolled back and run again with every write under its own savepoint.
    for (boolean isolateAll : new boolean[] {false, true}) {
      try {
        c.exec("BEGIN IMMEDIATE");
      } catch (SQLException e) {
        failAll(e, "begin group commit");
        return;
      }
      int outcome = runAll(isolateAll);
      if (outcome == RAN) {
        commitBatch();
        return;
      }
      if (outcome == ABANDON) {
        failAllAfterRollback("roll back a failed write");
        return;
      }
      rollback();
      for (Pending<?> p : batch) {
        p.reset();
      }
    }
    throw new IllegalStateException("unreachable: the isolated pass never asks for a retry");
  }

  private static final int RAN = 0;
  private static final int RETRY_ISOLATED = 1;
  private static final int ABANDON = 2;

  /** Runs every write of the batch in the open transaction; see {@link #runBatch}. */
  private int runAll(boolean isolateAll) {
    for (Pending<?> p : batch) {
      if (isolateAll || !p.singleStatement) {
        if (!runWithSavepoint(p)) {
          return ABANDON;
        }
      } else if (!runUnisolated(p)) {
        return RETRY_ISOLATED;
      }
    }
    return RAN;
  }

  private <T> boolean runUnisolated(Pending<T> p) {
    try {
      p.result = p.op.apply(session);
      return true;
    } catch (SQLException | RuntimeException e) {
      recoverIfEngineFailed(e);
      return false;
    }
  }

  private void commitBatch() {
    try {
      session.conn.exec("COMMIT");
      if (batch.stream().anyMatch(p -> p.error == null)) {
        errors.noteSuccess();
      }
      guard.afterCommit();
    } catch (SQLException e) {
      errors.noteFailure(e);
      rollback(e);
      for (Pending<?> p : batch) {
        fail(p, errors.translate(e, p.what + " (commit)", SqliteErrors.describe(p.where)));
      }
      return;
    }
    for (Pending<?> p : batch) {
      p.complete();
    }
  }

  private <T> void runInOwnTransaction(Pending<T> p) {
    Conn c = session.conn;
    try {
      c.exec("BEGIN IMMEDIATE");
    } catch (SQLException e) {
      failAll(e, "begin");
      return;
    }
    try {
      p.result = p.op.apply(session);
    } catch (SQLException | RuntimeException e) {
      rollback(e);
      fail(p, asPersistence(e, p));
      return;
    }
    commitBatch();
  }

  private <T> void runAlone(Pending<T> p) {
    try {
      p.result = p.op.apply(session);
      errors.noteSuccess();
      guard.afterCommit();
    } catch (SQLException e) {
      session.recover();
      p.error = errors.translate(e, p.what, SqliteErrors.describe(p.where));
    } catch (RuntimeException e) {
      recoverIfEngineFailed(e);
      p.error = e;
    }
    p.complete();
  }

  /** Runs one write of a batch under a savepoint; false if the batch must be abandoned. */
  private <T> boolean runWithSavepoint(Pending<T> p) {
    Conn c = session.conn;
    try {
      c.exec("SAVEPOINT w");
      p.result = p.op.apply(session);
      c.exec("RELEASE w");
      return true;
    } catch (SQLException | RuntimeException e) {
      p.error = asPersistence(e, p);
      recoverIfEngineFailed(e);
      try {
        c.exec("ROLLBACK TO w");
        c.exec("RELEASE w");
        return true;
      } catch (SQLException rollbackFailure) {
        p.error.addSuppressed(rollbackFailure);
        return false;
      }
    }
  }

  private RuntimeException asPersistence(Exception e, Pending<?> p) {
    return e instanceof SQLException sql
        ? errors.translate(sql, p.what, SqliteErrors.describe(p.where))
        : (RuntimeException) e;
  }

  private void failAll(SQLException e, String what) {
    session.recover();
    for (Pending<?> p : batch) {
      fail(p, errors.translate(e, p.what + " (" + what + ")", SqliteErrors.describe(p.where)));
    }
  }

  private void failAllAfterRollback(String what) {
    rollback();
    for (Pending<?> p : batch) {
      if (p.error == null) {
        p.error =
            new io.cairn.persistence.StorageEngineException(
                p.what
                    + " on "
                    + p.where
                    + " was rolled back because another write in its group commit could not be"
                    + " isolated ("
                    + what
                    + "); it did not happen. Retry it.",
                null);
      }
      p.complete();
    }
  }

  private static void fail(Pending<?> p, RuntimeException e) {
    p.error = e;
    p.complete();
  }

  private void rollback() {
    try {
      session.conn.exec("ROLLBACK");
    } catch (SQLException ignored) {
      // no transaction was open (SQLite may already have rolled it back itself, e.g. after
      // SQLITE_FULL), or the connection is gone; nothing was committed either way
      session.recover();
    }
  }

  /** Rolls back after {@code cause}; see {@link #recoverIfEngineFailed}. */
  private void rollback(Throwable cause) {
    recoverIfEngineFailed(cause);
    rollback();
  }

  /**
   * If {@code e} is or wraps an engine error, the statement that raised it is unusable (see {@link
   * Conn#prepare}): rebuild the writer's statements so the next write works, e.g. once space is
   * free again after SQLITE_FULL. A Cairn-level failure (a version conflict, a bad argument) leaves
   * the statements alone.
   */
  private void recoverIfEngineFailed(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException) {
        session.recover();
        return;
      }
    }
  }

  /**
   * Fails queued writes with {@link io.cairn.persistence.BackendClosedException}, waits for the
   * running batch or transaction, and closes the writer connection. Idempotent.
   */
  @Override
  public void close() {
    closed = true;
    lock.lock();
    try {
      Pending<?> p;
      while ((p = queue.poll()) != null) {
        fail(p, errors.closedException());
      }
      checkpointForClose();
      session.conn.close();
      guard.close();
    } finally {
      unlockAndHandOff();
    }
  }

  /**
   * Copies the whole WAL into the database and truncates it, so a clean shutdown leaves nothing in
   * the WAL that damage to it could lose; then marks the WAL clean. If readers still hold it (the
   * checkpoint reports busy), the WAL stays and so does the mark's record of it.
   */
  private void checkpointForClose() {
    if (guard.isReadOnly()) {
      return; // a read-only open leaves the WAL to the process that writes it
    }
    try {
      if (checkpointAndTruncate(session)) {
        guard.clean();
      } else {
        guard.afterCommit();
      }
    } catch (SQLException | java.io.IOException e) {
      org.slf4j.LoggerFactory.getLogger(Writer.class)
          .warn(
              "The checkpoint at close failed ({}); the WAL keeps the last commits and is"
                  + " replayed at the next open",
              e.toString());
    }
  }

  /**
   * Copies every WAL frame into the database and empties the WAL, in an order that a kill at any
   * point cannot turn into a false "committed transactions would be lost" at the next open (the
   * commit mark must never claim uncopied frames in a WAL that is already empty): first a {@code
   * FULL} checkpoint copies every frame into {@code cairn.db} and leaves the WAL as it is; then the
   * mark records that every frame is copied, fsynced; only then does {@code TRUNCATE} empty the
   * WAL. Caller holds the writer lock (inside {@link #exclusive} or {@link #close}).
   *
   * @return whether the WAL is now empty (false when readers kept the checkpoint from finishing)
   */
  boolean checkpointAndTruncate(Session s) throws SQLException {
    try (java.sql.Statement st = s.conn.jdbc().createStatement()) {
      try (java.sql.ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(FULL)")) {
        if (!rs.next() || rs.getInt(1) != 0) {
          return false; // busy: a reader still needs frames
        }
      }
      guard.afterCommit();
      guard.sync();
      try (java.sql.ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
        return rs.next() && rs.getInt(1) == 0;
      }
    }
  }

  boolean isClosed() {
    return closed;
  }
}
