package io.cairn.persistence.spi;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A read-write lock for a shared side taken by every operation and an exclusive side taken rarely
 * (close, engine restart, transactions, reseal, import): the base's {@link WriteOrder} gate, and
 * offered to engines for their own lifecycle (the RocksDB engine's restart lock).
 *
 * <p>Why not one {@link ReentrantReadWriteLock}: its shared acquire and release each
 * compare-and-set one word that every thread writes, and record the holder in fields every thread
 * writes too, so concurrent readers that never wait for each other still serialise on that cache
 * line (a lock profile shows nothing; a CPU profile shows the acquire). Here a thread's shared
 * holds always go to one of {@link #STRIPES} locks chosen by its thread id, so threads on different
 * stripes touch different words; the exclusive side takes every stripe in index order (and releases
 * in reverse), so it excludes every shared holder exactly as before.
 *
 * <p>Semantics, as {@link ReentrantReadWriteLock} (non-fair) for this use: both sides are
 * reentrant; a thread holding the exclusive side may take the shared side; a thread holding the
 * shared side must not take the exclusive side (deadlock, as before). {@link #sharedHoldCount()} is
 * the calling thread's, since its holds are all on its own stripe. Thread-safe.
 */
public final class StripedReadWriteLock {
  /** Stripes: a power of two, more than the threads that usually run operations at once. */
  static final int STRIPES = 16;

  private final ReentrantReadWriteLock[] stripes = new ReentrantReadWriteLock[STRIPES];

  /** Keeps neighbouring stripes' lock words off one cache line (allocation order is adjacent). */
  @SuppressWarnings("unused")
  private final Object[] padding = new Object[STRIPES];

  /** A lock with no holder. */
  public StripedReadWriteLock() {
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new ReentrantReadWriteLock();
      padding[i] = new long[16];
    }
  }

  /** The calling thread's stripe: a mix of its id, so consecutive ids spread over all stripes. */
  private ReentrantReadWriteLock mine() {
    long h = Thread.currentThread().getId() * 0x9E3779B97F4A7C15L;
    return stripes[(int) (h >>> 60) & (STRIPES - 1)];
  }

  /** Takes the shared side: waits only while a thread holds the exclusive side. */
  public void lockShared() {
    mine().readLock().lock();
  }

  /** Releases one shared hold of the calling thread. */
  public void unlockShared() {
    mine().readLock().unlock();
  }

  /** How many shared holds the calling thread has (0 if none). */
  public int sharedHoldCount() {
    return mine().getReadHoldCount();
  }

  /** Takes every stripe's write lock, in index order; waits for every shared holder to leave. */
  public void lockExclusive() {
    for (ReentrantReadWriteLock s : stripes) {
      s.writeLock().lock();
    }
  }

  /** Releases the exclusive side the calling thread holds, in reverse index order. */
  public void unlockExclusive() {
    for (int i = STRIPES - 1; i >= 0; i--) {
      stripes[i].writeLock().unlock();
    }
  }

  /** Whether the calling thread holds the exclusive side. */
  public boolean heldExclusively() {
    return stripes[STRIPES - 1].isWriteLockedByCurrentThread();
  }
}
