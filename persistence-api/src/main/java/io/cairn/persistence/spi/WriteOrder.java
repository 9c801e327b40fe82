package io.cairn.persistence.spi;

import io.cairn.persistence.StoreId;
import java.util.Arrays;
import java.util.Collection;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The order of {@link EngineBackend}'s writes: which writes may reach the engine together and which
 * must follow each other. Every read-modify-write of the base (a key's version and its
 * compare-and-set, a log's offsets and position, a snapshot set's manifest) runs holding the lock
 * that orders it, and calls {@link StorageEngine#write} before releasing it.
 *
 * <h2>One array of stripes, taken in index order</h2>
 *
 * There are {@link #STRIPES} locks when the engine {@link StorageEngine#concurrentWrites() opts in
 * to concurrent writes}, one otherwise. What each write takes:
 *
 * <ul>
 *   <li>a single-key write (put, put with TTL, compare-and-set, delete, compare-and-delete): the
 *       stripe of (namespace, key), {@link #key};
 *   <li>a write of several keys of one namespace ({@code putAll}, a page of {@code purgeExpired}):
 *       the stripes of all its keys, {@link #keys};
 *   <li>a log (append, truncation, deleting truncated records) and a snapshot set (chunks,
 *       manifest, deleting chunks): the one stripe of the store, {@link #store}, so a log's offsets
 *       are assigned and written one batch after the other, and a set's chunks and manifest in
 *       order;
 *   <li>a transaction, an import, a reseal page and a checkpoint: every stripe, {@link #all}.
 * </ul>
 *
 * A thread takes its stripes in increasing index order and holds none when it starts (checked for
 * several stripes: {@link IllegalStateException}), so no two threads wait for each other in a
 * cycle: no deadlock. With one stripe every write holds the same lock, which is exactly the single
 * write lock the base had before engines could opt in, so an engine written against that contract
 * sees one {@link StorageEngine#write} at a time.
 *
 * <p>Why stripes for everything rather than a read-write lock (single-key writes shared,
 * transactions exclusive) plus separate per-key, per-log and per-set locks: a transaction does not
 * know its keys before its work runs (it reads, then decides what to write), so it must exclude
 * every writer for its whole work; with a read-write lock every write would take two locks, and the
 * shared side of one {@code ReentrantReadWriteLock} is a word every writer thread compare-and-sets
 * (the RocksDB backend measured that cache line as a cost at 8 threads and striped it). Here a
 * single-key write takes one uncontended lock of its own stripe; a transaction pays {@link
 * #STRIPES} uncontended acquisitions (about a microsecond), small beside its engine batch. The cost
 * of sharing: writes whose keys (or logs, or sets) hash to the same stripe wait for each other,
 * which is rare with {@link #STRIPES} stripes and as many writer threads as cores.
 *
 * <p>Memory effects: a lock's release happens-before its next acquisition, so state guarded by a
 * store's stripe (a log's cached position) is seen up to date by the next holder, a transaction
 * included (it holds every stripe). Thread-safe.
 */
final class WriteOrder {
  /** Stripes when the engine writes concurrently: a power of two, well above the writer threads. */
  static final int STRIPES = 64;

  private final ReentrantLock[] stripes;
  private final int mask;

  /** Keeps neighbouring stripes' lock words off one cache line (allocation order is adjacent). */
  @SuppressWarnings("unused")
  private final Object[] padding;

  /**
   * @param concurrent whether the engine accepts concurrent writes: {@link #STRIPES} stripes, else
   *     one (every write in turn)
   */
  WriteOrder(boolean concurrent) {
    int n = concurrent ? STRIPES : 1;
    stripes = new ReentrantLock[n];
    padding = new Object[n];
    for (int i = 0; i < n; i++) {
      stripes[i] = new ReentrantLock();
      padding[i] = new long[16];
    }
    mask = n - 1;
  }

  /** Runs {@code op} holding the stripe of {@code key} in {@code store}. */
  <T> T key(StoreId store, byte[] key, Supplier<T> op) {
    return holding(stripes[stripeOf(store, key)], op);
  }

  /** Runs {@code op} holding the stripes of every key of {@code keys} in {@code store}. */
  <T> T keys(StoreId store, Collection<byte[]> keys, Supplier<T> op) {
    if (stripes.length == 1) {
      return holding(stripes[0], op);
    }
    boolean[] needed = new boolean[stripes.length];
    for (byte[] k : keys) {
      needed[stripeOf(store, k)] = true;
    }
    return holdingAll(needed, op);
  }

  /** Runs {@code op} holding the stripe of {@code store} (a log or snapshot set as a whole). */
  <T> T store(StoreId store, Supplier<T> op) {
    return holding(stripes[mix(store.hashCode() ^ 0x5bd1e995) & mask], op);
  }

  /** Runs {@code op} holding every stripe: no other write runs meanwhile. */
  <T> T all(Supplier<T> op) {
    boolean[] needed = new boolean[stripes.length];
    Arrays.fill(needed, true);
    return holdingAll(needed, op);
  }

  int stripeOf(StoreId store, byte[] key) {
    return mix(store.hashCode() * 31 + Arrays.hashCode(key)) & mask;
  }

  /** Spreads the bits of {@code h} (the finaliser of MurmurHash3), so close keys differ. */
  private static int mix(int h) {
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    return h ^ (h >>> 16);
  }

  private static <T> T holding(ReentrantLock lock, Supplier<T> op) {
    lock.lock();
    try {
      return op.get();
    } finally {
      lock.unlock();
    }
  }

  private <T> T holdingAll(boolean[] needed, Supplier<T> op) {
    for (ReentrantLock s : stripes) {
      if (s.isHeldByCurrentThread()) {
        // taking more stripes after one out of order could wait in a cycle with another thread
        throw new IllegalStateException(
            "a write of the base took several write stripes while holding one: a bug of the base"
                + " (stripes must be taken in index order, from none)");
      }
    }
    int taken = 0;
    try {
      for (; taken < stripes.length; taken++) {
        if (needed[taken]) {
          stripes[taken].lock();
        }
      }
      return op.get();
    } finally {
      for (int i = taken - 1; i >= 0; i--) {
        if (needed[i]) {
          stripes[i].unlock();
        }
      }
    }
  }
}
