package io.cairn.backend.sqlite;

import io.cairn.persistence.StorageEngineException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Read-only connections beside the writer. WAL mode lets each reader see the latest committed state
 * while the writer works. Connections are opened lazily up to {@code readers}; a caller borrows one
 * for a single query (or one page of a scan) and returns it at once, so no caller holds a
 * connection across calls. Thread-safe.
 *
 * <p>A borrow takes one of {@code readers} permits, then an idle connection (or opens one: a permit
 * without an idle connection means fewer than {@code readers} are open). Both are lock-free when a
 * connection is free, so concurrent point reads do not queue on a pool lock; only a borrower that
 * finds every connection busy waits, for the busy timeout at most. The connection a borrow takes is
 * the one its thread released last if that one is idle (a CAS on that connection's own flag, which
 * no other thread touches while its owner keeps reading: a connection per thread, as a hand-written
 * reader has, without a shared queue whose head every borrow and release would write), else the
 * first idle one in the order they were opened (so a pool with few readers keeps using the same
 * few), else a new one.
 *
 * <p>The one exception is {@link #snapshot}, a read transaction: it borrows a connection for the
 * whole work, opens a deferred transaction ({@code BEGIN}) and starts its read at once, so every
 * query of the work sees the one WAL snapshot of that instant (SQLite keeps a reader's snapshot
 * until its transaction ends, whatever the writer commits meanwhile; the writer is never blocked by
 * it, only checkpoints cannot pass it). The transaction is rolled back (it wrote nothing) before
 * the connection goes back to the pool; a connection whose rollback failed is closed instead, so no
 * pooled connection ever keeps an old snapshot.
 */
final class ReaderPool implements AutoCloseable {
  /** Opens one reader connection. */
  @FunctionalInterface
  interface Opener {
    Conn open() throws SQLException;
  }

  /** A read on a borrowed connection. */
  @FunctionalInterface
  interface ReadOp<T> {
    T apply(Conn c) throws SQLException;
  }

  /** Starts the read of a deferred transaction, so its snapshot is taken now. */
  private static final String START_READ = "SELECT count(*) FROM sqlite_master";

  private final Opener opener;
  private final int max;
  private final Duration waitLimit;
  private final SqliteErrors errors;
  // Every open connection, at most one per index; null = free for a new one. A borrower holding a
  // permit finds an idle slot or a null one here: permits taken <= max, so fewer than max are busy.
  private final AtomicReferenceArray<Slot> slots;
  private final Semaphore permits; // one per connection that may be borrowed or opened
  // The slot this thread released last: a borrow takes it back if it is idle, so a thread keeps
  // reading through one connection whose state stays in its CPU's caches, the way a connection
  // per thread does (issue 15). A closed slot stays busy forever, so it is never taken back.
  private final ThreadLocal<Slot> mine = new ThreadLocal<>();
  private volatile boolean closed;

  /** One open connection and whether it is borrowed; owned by the pool. */
  private static final class Slot {
    final Conn conn;
    final int index;
    final AtomicBoolean busy = new AtomicBoolean(true); // born borrowed by the thread opening it

    Slot(Conn conn, int index) {
      this.conn = conn;
      this.index = index;
    }

    boolean claim() {
      return !busy.get() && busy.compareAndSet(false, true);
    }
  }

  /** Marks a slot being opened, so two borrowers do not open into the same index. */
  private static final Slot OPENING = new Slot(null, -1);

  ReaderPool(Opener opener, int max, Duration waitLimit, SqliteErrors errors) {
    this.opener = opener;
    this.max = max;
    this.waitLimit = waitLimit.isZero() ? Duration.ofSeconds(1) : waitLimit;
    this.errors = errors;
    this.permits = new Semaphore(max);
    this.slots = new AtomicReferenceArray<>(max);
  }

  /**
   * Runs {@code op} on a reader connection, translating engine errors.
   *
   * @param what the operation, for messages
   * @param where the store (and key), for messages; its {@code toString()} is called only if
   *     something fails
   */
  <T> T read(String what, Object where, ReadOp<T> op) {
    if (closed) {
      throw errors.closedException();
    }
    Slot s;
    try {
      s = borrow(what, where);
    } catch (SQLException e) {
      throw errors.translate(
          e, what + " (opening a reader connection)", SqliteErrors.describe(where));
    }
    try {
      return op.apply(s.conn);
    } catch (SQLException e) {
      s.conn.resetStatements(); // the failed statement's handle is gone (see Conn#prepare)
      throw errors.translate(e, what, SqliteErrors.describe(where));
    } finally {
      release(s);
    }
  }

  /**
   * Runs {@code body} in a read transaction on one connection held for the whole body (see the
   * class comment); every read through the {@link Pinned} it gets sees the same snapshot. After
   * {@link #close()} began, those reads throw the backend-closed exception.
   */
  <T> T snapshot(java.util.function.Function<Pinned, T> body) {
    Pinned pinned = pin();
    try {
      return body.apply(pinned);
    } finally {
      pinned.close();
    }
  }

  /**
   * Starts a read transaction on one connection held until {@link Pinned#close()} (see the class
   * comment): the engine's {@code snapshot()}, whose end the caller decides.
   */
  Pinned pin() {
    if (closed) {
      throw errors.closedException();
    }
    String what = "readTransaction";
    Slot s;
    try {
      s = borrow(what, "the database");
    } catch (SQLException e) {
      throw errors.translate(e, what + " (opening a reader connection)", "the database");
    }
    Conn c = s.conn;
    try {
      c.exec("BEGIN");
      c.queryLong(START_READ);
    } catch (SQLException e) {
      c.resetStatements();
      unpin(s, true);
      throw errors.translate(e, what + " (starting the read)", "the database");
    } catch (RuntimeException e) {
      unpin(s, true);
      throw e;
    }
    return new Pinned(s);
  }

  /**
   * Ends the read transaction on {@code s} and gives the connection back; a connection whose
   * rollback failed (or with {@code rollBack} false) is closed instead, so no pooled connection
   * ever keeps an old snapshot.
   */
  private void unpin(Slot s, boolean rollBack) {
    Conn c = s.conn;
    boolean rolledBack = false;
    if (rollBack) {
      try {
        c.exec("ROLLBACK");
        rolledBack = true;
      } catch (SQLException e) {
        rolledBack = false; // closing the connection ends the transaction instead
      }
    }
    if (rolledBack) {
      release(s);
    } else {
      c.close(); // its slot stays busy, so nobody takes it back
      slots.compareAndSet(s.index, s, null);
      permits.release(); // the next borrow opens a fresh connection
    }
  }

  /** The connection of one read transaction; {@link #close()} ends it. Idempotent close. */
  final class Pinned implements AutoCloseable {
    private final Slot slot;
    private final java.util.concurrent.atomic.AtomicBoolean ended =
        new java.util.concurrent.atomic.AtomicBoolean();

    Pinned(Slot slot) {
      this.slot = slot;
    }

    /** Runs {@code op} on the pinned connection, translating engine errors. */
    <T> T read(String what, Object where, ReadOp<T> op) {
      if (closed) {
        throw errors.closedException();
      }
      if (ended.get()) {
        throw new IllegalStateException(
            what
                + " on "
                + SqliteErrors.describe(where)
                + ": the read transaction has ended; read inside its work");
      }
      try {
        return op.apply(slot.conn);
      } catch (SQLException e) {
        slot.conn.resetStatements();
        throw errors.translate(e, what, SqliteErrors.describe(where));
      }
    }

    /** Ends the read transaction and gives the connection back, once. */
    @Override
    public void close() {
      if (ended.compareAndSet(false, true)) {
        unpin(slot, true);
      }
    }
  }

  private Slot borrow(String what, Object where) throws SQLException {
    if (!permits.tryAcquire()) {
      boolean got;
      try {
        got = permits.tryAcquire(waitLimit.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StorageEngineException(
            what
                + " on "
                + SqliteErrors.describe(where)
                + " was interrupted while waiting for a reader connection",
            e);
      }
      if (!got) {
        if (closed) {
          throw errors.closedException();
        }
        throw new StorageEngineException(
            what
                + " on "
                + SqliteErrors.describe(where)
                + ": all "
                + max
                + " reader connections stayed busy for "
                + waitLimit
                + ". Raise `readers` or reduce concurrent readers.",
            null);
      }
    }
    Slot own = mine.get();
    if (own != null && own.claim()) {
      return own;
    }
    long deadline = 0;
    while (true) {
      for (int i = 0; i < max; i++) {
        Slot s = slots.get(i);
        if (s != null && s.claim()) {
          return s;
        }
      }
      for (int i = 0; i < max; i++) {
        if (slots.get(i) == null && slots.compareAndSet(i, null, OPENING)) {
          try {
            Slot s = new Slot(opener.open(), i);
            slots.set(i, s);
            return s;
          } catch (SQLException | RuntimeException e) {
            slots.set(i, null);
            permits.release();
            throw e;
          }
        }
      }
      // A permit guarantees an idle or free slot; another borrower took the one this scan saw
      // free, and a release is under way. Look again, for the wait limit at most: a slot left
      // busy by its holder would otherwise keep this thread spinning unnoticed.
      if (deadline == 0) {
        deadline = System.nanoTime() + waitLimit.toNanos();
      } else if (System.nanoTime() - deadline > 0) {
        permits.release();
        throw new StorageEngineException(
            what
                + " on "
                + SqliteErrors.describe(where)
                + ": held a reader permit but found no idle or free connection slot for "
                + waitLimit
                + " (a reader pool bug: a connection was not given back). Reopen the backend.",
            null);
      }
      Thread.yield();
    }
  }

  private void release(Slot s) {
    if (mine.get() != s) {
      mine.set(s);
    }
    s.busy.set(false);
    if (closed && s.claim()) {
      s.conn.close(); // closed meanwhile: close() may have passed this slot while it was busy
    }
    permits.release();
  }

  /** Closes idle connections now and borrowed ones when they come back. Idempotent. */
  @Override
  public void close() {
    closed = true;
    for (int i = 0; i < max; i++) {
      Slot s = slots.get(i);
      if (s != null && s != OPENING && s.claim()) {
        s.conn.close(); // stays busy: never borrowed again
      }
    }
  }
}
