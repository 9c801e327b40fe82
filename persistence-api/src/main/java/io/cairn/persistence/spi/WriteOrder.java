package io.cairn.persistence.spi;

import io.cairn.persistence.StoreId;
import java.util.Arrays;
import java.util.Collection;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The order of {@link EngineBackend}'s writes: which writes may reach the engine together and which
 * must follow each other. Every read-modify-write of the base (a key's version and its
 * compare-and-set, a log's offsets and position, a snapshot set's manifest) runs holding the lock
 * that orders it, and calls {@link StorageEngine#write} before releasing it.
 *
 * <h2>A gate and many stripes</h2>
 *
 * When the engine {@link StorageEngine#concurrentWrites() opts in to concurrent writes} there are
 * {@link #STRIPES} stripe locks and a gate ({@link StripedReadWriteLock}). What each write takes:
 *
 * <ul>
 *   <li>a single-key write (put, put with TTL, compare-and-set, delete, compare-and-delete): the
 *       gate's shared side, then the stripe of (namespace, key), {@link #key};
 *   <li>a write of several keys of one namespace ({@code putAll}, a page of {@code purgeExpired}):
 *       the gate's shared side, then the stripes of all its keys in increasing index order, {@link
 *       #keys};
 *   <li>a log (append, truncation, deleting truncated records) and a snapshot set (chunks,
 *       manifest, deleting chunks): the gate's shared side, then the one stripe of the store,
 *       {@link #store}, so a log's offsets are assigned and written one batch after the other, and
 *       a set's chunks and manifest in order;
 *   <li>a transaction, an import, a reseal page and a checkpoint: the gate's exclusive side, {@link
 *       #all}, which waits for every write holding the shared side and keeps new ones out; it takes
 *       no stripe, since every stripe holder holds the shared side.
 * </ul>
 *
 * Without the opt-in there is one lock and every write holds it, which is exactly the single write
 * lock the base had before engines could opt in, so an engine written against that contract sees
 * one {@link StorageEngine#write} at a time.
 *
 * <h2>No deadlock</h2>
 *
 * A thread takes the gate before any stripe, and several stripes only in increasing index order and
 * only when it holds none: {@link #keys} and {@link #all} refuse (with {@link
 * IllegalStateException}) when the calling thread is already inside a write of this order, unless
 * it holds the gate exclusively, where no other thread holds anything. So no two threads wait for
 * each other in a cycle. A single-key or store write nested in another write takes one more lock
 * and may wait for its holder, which holds nothing this thread waits on.
 *
 * <h2>Why so many stripes, and why a gate</h2>
 *
 * A writer holds its stripe across the engine's write, and on RocksDB that write may park the
 * thread in the engine's write group for a scheduling slice when there are more writer threads than
 * cores. A write whose key merely hashes to that stripe then parks too, and its wake-up costs
 * another context switch: with 64 stripes and 8 writers on 2 cores, a RocksDB put spent 20 % of its
 * wall time parked on a stripe and ran at half the throughput of the same put with 8,192 stripes
 * (benchmarks/RESULTS-rocksdb-port.md). The chance that a write finds its stripe held by an
 * unrelated one is about (writers - 1) / {@link #STRIPES}: 0.1 % at 8 writers. Stripe locks are
 * created on first use, so a backend that writes few keys holds few of them.
 *
 * <p>So many stripes cannot each be taken by a transaction, hence the gate: its shared side is
 * striped by thread ({@link StripedReadWriteLock}), so concurrent writers do not contend on one
 * lock word (the shared side of one {@code ReentrantReadWriteLock} is a word every writer thread
 * compare-and-sets, a measured cost at 8 threads), and its exclusive side takes {@value
 * StripedReadWriteLock#STRIPES} locks.
 *
 * <p>Memory effects: a lock's release happens-before its next acquisition, so state guarded by a
 * store's stripe (a log's cached position) is seen up to date by the next holder; a transaction
 * sees every earlier write, since each released the gate's shared side before the transaction
 * acquired the exclusive one, and every later write sees the transaction's work the same way.
 * Thread-safe.
 */
final class WriteOrder {
  /** Stripes when the engine writes concurrently: a power of two, far above the writer threads. */
  static final int STRIPES = 8192;

  private static final String OUT_OF_ORDER =
      "a write of the base took several write stripes, or every stripe, while inside another"
          + " write: a bug of the base (stripes must be taken in index order, from none)";

  /** The gate when writes run concurrently, else null (then {@link #single} orders everything). */
  private final StripedReadWriteLock gate;

  /** The one lock of an engine without the opt-in, else null. */
  private final ReentrantLock single;

  private final AtomicReferenceArray<ReentrantLock> stripes; // created on first use

  /**
   * @param concurrent whether the engine accepts concurrent writes: {@link #STRIPES} stripes and a
   *     gate, else one lock (every write in turn)
   */
  WriteOrder(boolean concurrent) {
    gate = concurrent ? new StripedReadWriteLock() : null;
    single = concurrent ? null : new ReentrantLock();
    stripes = concurrent ? new AtomicReferenceArray<>(STRIPES) : null;
  }

  /** Runs {@code op} holding the stripe of {@code key} in {@code store}. */
  <T> T key(StoreId store, byte[] key, Supplier<T> op) {
    return single != null ? holding(single, op) : gated(stripe(stripeOf(store, key)), op);
  }

  /** Runs {@code op} holding the stripes of every key of {@code keys} in {@code store}. */
  <T> T keys(StoreId store, Collection<byte[]> keys, Supplier<T> op) {
    if (single != null) {
      return holding(single, op);
    }
    refuseIfInside();
    int[] indexes = new int[keys.size()];
    int n = 0;
    for (byte[] k : keys) {
      indexes[n++] = stripeOf(store, k);
    }
    Arrays.sort(indexes);
    gate.lockShared();
    int taken = 0; // stripes locked so far, in indexes[0..taken) minus repeats
    try {
      for (; taken < n; taken++) {
        if (taken == 0 || indexes[taken] != indexes[taken - 1]) {
          stripe(indexes[taken]).lock();
        }
      }
      return op.get();
    } finally {
      for (int i = taken - 1; i >= 0; i--) {
        if (i == 0 || indexes[i] != indexes[i - 1]) {
          stripe(indexes[i]).unlock();
        }
      }
      gate.unlockShared();
    }
  }

  /** Runs {@code op} holding the stripe of {@code store} (a log or snapshot set as a whole). */
  <T> T store(StoreId store, Supplier<T> op) {
    return single != null
        ? holding(single, op)
        : gated(stripe(mix(store.hashCode() ^ 0x5bd1e995) & (STRIPES - 1)), op);
  }

  /** Runs {@code op} with no other write running: the gate's exclusive side (or the one lock). */
  <T> T all(Supplier<T> op) {
    if (single != null) {
      return holding(single, op);
    }
    refuseIfInside();
    gate.lockExclusive();
    try {
      return op.get();
    } finally {
      gate.unlockExclusive();
    }
  }

  int stripeOf(StoreId store, byte[] key) {
    return mix(store.hashCode() * 31 + Arrays.hashCode(key)) & (STRIPES - 1);
  }

  /** Spreads the bits of {@code h} (the finaliser of MurmurHash3), so close keys differ. */
  private static int mix(int h) {
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    return h ^ (h >>> 16);
  }

  private ReentrantLock stripe(int index) {
    ReentrantLock lock = stripes.get(index);
    if (lock == null) {
      ReentrantLock created = new ReentrantLock();
      lock = stripes.compareAndExchange(index, null, created);
      if (lock == null) {
        lock = created;
      }
    }
    return lock;
  }

  /** Several stripes (or all) from inside a write could wait in a cycle with another thread. */
  private void refuseIfInside() {
    if (gate.sharedHoldCount() > 0 && !gate.heldExclusively()) {
      throw new IllegalStateException(OUT_OF_ORDER);
    }
  }

  private <T> T gated(ReentrantLock stripe, Supplier<T> op) {
    gate.lockShared();
    try {
      return holding(stripe, op);
    } finally {
      gate.unlockShared();
    }
  }

  private static <T> T holding(ReentrantLock lock, Supplier<T> op) {
    lock.lock();
    try {
      return op.get();
    } finally {
      lock.unlock();
    }
  }
}
