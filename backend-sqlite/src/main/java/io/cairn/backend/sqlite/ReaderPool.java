package io.cairn.backend.sqlite;

import io.cairn.persistence.StorageEngineException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Read-only connections beside the writer. WAL mode lets each reader see the latest committed state
 * while the writer works. Connections are opened lazily up to {@code readers}; a caller borrows one
 * for a single query (or one page of a scan) and returns it at once, so no caller holds a
 * connection across calls. Thread-safe.
 *
 * <p>A borrow takes one of {@code readers} permits, then an idle connection (or opens one: a permit
 * without an idle connection means fewer than {@code readers} are open). Both are lock-free when a
 * connection is free (a CAS each), so concurrent point reads do not queue on a pool lock; only a
 * borrower that finds every connection busy waits, for the busy timeout at most. The idle
 * connection a borrow takes is the one its thread released last if that one is idle, else the one
 * released last by any thread.
 *
 * <p>The one exception is {@link #snapshot}, a read transaction: it borrows a connection for the
 * whole work, opens a deferred transaction ({@code BEGIN}) and starts its read at once, so every
 * query of the work sees the one WAL snapshot of that instant (SQLite keeps a reader's snapshot
 * until its transaction ends, whatever the writer commits meanwhile; the writer is never blocked by
 * it, only checkpoints cannot pass it). The transaction is rolled back (it wrote nothing) before
 * the connection goes back to the pool; a connection whose rollback failed is closed instead, so no
 * pooled connection ever keeps an old snapshot.
 */
final class ReaderPool implements AutoCloseable, Reads {
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
  // Last in, first out: a borrow takes the connection released most recently, whose page cache and
  // statements are the likeliest to still sit in the CPU's caches, and connections beyond what
  // the concurrent readers need stay idle instead of being rotated through (issue 15).
  private final ConcurrentLinkedDeque<Conn> idle = new ConcurrentLinkedDeque<>();
  private final Semaphore permits; // one per connection that may be borrowed or opened
  // The connection this thread released last: a borrow takes it back if it is idle, so a thread
  // keeps reading through one connection whose state stays in its CPU's caches, the way a
  // connection per thread does (issue 15). Holds no connection open: a closed one is never idle.
  private final ThreadLocal<Conn> mine = new ThreadLocal<>();
  private volatile boolean closed;

  ReaderPool(Opener opener, int max, Duration waitLimit, SqliteErrors errors) {
    this.opener = opener;
    this.max = max;
    this.waitLimit = waitLimit.isZero() ? Duration.ofSeconds(1) : waitLimit;
    this.errors = errors;
    this.permits = new Semaphore(max);
  }

  /**
   * Runs {@code op} on a reader connection, translating engine errors.
   *
   * @param what the operation, for messages
   * @param where the store (and key), for messages; its {@code toString()} is called only if
   *     something fails
   */
  @Override
  public <T> T read(String what, Object where, ReadOp<T> op) {
    if (closed) {
      throw errors.closedException();
    }
    Conn c;
    try {
      c = borrow(what, where);
    } catch (SQLException e) {
      throw errors.translate(
          e, what + " (opening a reader connection)", SqliteErrors.describe(where));
    }
    try {
      return op.apply(c);
    } catch (SQLException e) {
      c.resetStatements(); // the failed statement's handle is gone (see Conn#prepare)
      throw errors.translate(e, what, SqliteErrors.describe(where));
    } finally {
      release(c);
    }
  }

  /**
   * Runs {@code body} in a read transaction on one connection held for the whole body (see the
   * class comment); every read through the {@link Reads} it gets sees the same snapshot. After
   * {@link #close()} began, those reads throw the backend-closed exception.
   */
  <T> T snapshot(java.util.function.Function<Reads, T> body) {
    if (closed) {
      throw errors.closedException();
    }
    String what = "readTransaction";
    Conn c;
    try {
      c = borrow(what, "the database");
    } catch (SQLException e) {
      throw errors.translate(e, what + " (opening a reader connection)", "the database");
    }
    Pinned pinned = new Pinned(c);
    try {
      try {
        c.exec("BEGIN");
        c.queryLong(START_READ);
      } catch (SQLException e) {
        c.resetStatements();
        throw errors.translate(e, what + " (starting the read)", "the database");
      }
      return body.apply(pinned);
    } finally {
      pinned.ended = true;
      boolean rolledBack;
      try {
        c.exec("ROLLBACK");
        rolledBack = true;
      } catch (SQLException e) {
        rolledBack = false; // closing the connection ends the transaction instead
      }
      if (rolledBack) {
        release(c);
      } else {
        c.close();
        permits.release(); // the next borrow opens a fresh connection
      }
    }
  }

  /** The connection of one read transaction. */
  private final class Pinned implements Reads {
    private final Conn c;
    private volatile boolean ended;

    Pinned(Conn c) {
      this.c = c;
    }

    @Override
    public <T> T read(String what, Object where, ReadOp<T> op) {
      if (closed) {
        throw errors.closedException();
      }
      if (ended) {
        throw new IllegalStateException(
            what + " on " + where + ": the read transaction has ended; read inside its work");
      }
      try {
        return op.apply(c);
      } catch (SQLException e) {
        c.resetStatements();
        throw errors.translate(e, what, SqliteErrors.describe(where));
      }
    }
  }

  private Conn borrow(String what, Object where) throws SQLException {
    if (!permits.tryAcquire()) {
      boolean got;
      try {
        got = permits.tryAcquire(waitLimit.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new StorageEngineException(
            what + " on " + where + " was interrupted while waiting for a reader connection", e);
      }
      if (!got) {
        if (closed) {
          throw errors.closedException();
        }
        throw new StorageEngineException(
            what
                + " on "
                + where
                + ": all "
                + max
                + " reader connections stayed busy for "
                + waitLimit
                + ". Raise `readers` or reduce concurrent readers.",
            null);
      }
    }
    Conn own = mine.get();
    if (own != null && idle.remove(own)) {
      return own;
    }
    Conn c = idle.pollFirst();
    if (c != null) {
      return c;
    }
    try {
      return opener.open();
    } catch (SQLException | RuntimeException e) {
      permits.release();
      throw e;
    }
  }

  private void release(Conn c) {
    if (closed) {
      c.close();
    } else {
      if (mine.get() != c) {
        mine.set(c);
      }
      idle.offerFirst(c);
      if (closed && idle.remove(c)) {
        c.close(); // raced with close(): make sure nothing stays open
      }
    }
    permits.release();
  }

  /** Closes idle connections now and borrowed ones when they come back. Idempotent. */
  @Override
  public void close() {
    closed = true;
    Conn c;
    while ((c = idle.poll()) != null) {
      c.close();
    }
  }
}
