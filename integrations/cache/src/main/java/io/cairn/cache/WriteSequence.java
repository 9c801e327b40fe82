package io.cairn.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.StampedLock;
import java.util.function.Consumer;

/**
 * The per-key write sequence of a tiered cache (issue 20 item 1: no value older than a finished put
 * or invalidate is ever served or cached).
 *
 * <p>Every write of a key (put, invalidate, invalidateAll, dropping an unreadable, rejected or
 * tag-invalidated tier entry) runs under its stripe's monitor and increments {@code seq[stripe]}
 * before touching a tier (the sequence is then odd) and again after (even). A fill of L1 or of a
 * persistent tier with a value read from a lower tier or produced by the loader reads the sequence
 * <em>before</em> reading the tiers and stores only if the sequence is still that even number at
 * the moment of storing:
 *
 * <ul>
 *   <li>an L1 fill checks it inside {@code l1.asMap().compute(key)}: a write's own L1 step on the
 *       same key is serialised with that compute, so the fill either happened before the write's L1
 *       step (and is overwritten or removed by it) or sees the write's first increment and stores
 *       nothing;
 *   <li>the write-back of a loaded value, and the fill of upper persistent tiers with a value found
 *       in a lower one, hold the stripe monitor while they check and write ({@link #ifCurrent}), so
 *       no write of the key can start or run between the check and the tier write; one process owns
 *       a cache's namespaces (see {@code TieredCache.OPEN}), so an in-process monitor is enough.
 * </ul>
 *
 * A running load whose sequence is no longer current is not joined by later callers: they wait for
 * it and then load themselves, so the loader runs at most once at a time per key. {@link #writeAll}
 * takes {@code clearing} exclusively (writes take it shared) and moves every stripe. Stripes are
 * shared by keys: a write of one key also refuses concurrent fills of the other keys of its stripe
 * (a lost fill, never a wrong value). Nothing here is on the L1 hit path.
 */
final class WriteSequence {
  private static final int BITS = 10;
  static final int STRIPES = 1 << BITS;

  private final AtomicLongArray seq = new AtomicLongArray(STRIPES);
  private final Object[] locks = new Object[STRIPES];
  private final StampedLock clearing = new StampedLock();

  WriteSequence() {
    for (int i = 0; i < STRIPES; i++) {
      locks[i] = new Object();
    }
  }

  static int stripe(Object key) {
    return (key.hashCode() * 0x9E3779B9) >>> (32 - BITS);
  }

  /** The sequence of stripe {@code s} now. */
  long current(int s) {
    return seq.get(s);
  }

  /** Whether a fill that read {@code before} may still store (no write began since). */
  boolean unchanged(int s, long before) {
    return (before & 1) == 0 && seq.get(s) == before;
  }

  /** Runs {@code write} as a write of the keys of stripe {@code s}. */
  void write(int s, Runnable write) {
    long stamp = clearing.readLock();
    try {
      synchronized (locks[s]) {
        seq.incrementAndGet(s);
        try {
          write.run();
        } finally {
          seq.incrementAndGet(s);
        }
      }
    } finally {
      clearing.unlockRead(stamp);
    }
  }

  /**
   * Runs {@code fill} under the stripe monitor if no write of stripe {@code s} began since {@code
   * before} was read; returns whether it ran. {@code asWrite}: the fill is itself a write (moves
   * the sequence), as when dropping an entry that was read.
   */
  boolean ifCurrent(int s, long before, boolean asWrite, Runnable fill) {
    if (!unchanged(s, before)) {
      return false;
    }
    long stamp = clearing.readLock();
    try {
      synchronized (locks[s]) {
        if (seq.get(s) != before) {
          return false;
        }
        if (!asWrite) {
          fill.run();
          return true;
        }
        seq.incrementAndGet(s);
        try {
          fill.run();
        } finally {
          seq.incrementAndGet(s);
        }
        return true;
      }
    } finally {
      clearing.unlockRead(stamp);
    }
  }

  /** A fill of one key: its stripe and the sequence read before the tiers were read. */
  interface Guarded {
    int stripe();

    long before();
  }

  /**
   * As {@link #ifCurrent} for many fills at once (the fill thread's batch): holds the monitors of
   * all their stripes (taken in ascending order, so two batches cannot deadlock; single-key writes
   * hold one) and runs {@code fill} with the fills whose stripe saw no write since their {@code
   * before}, if any. The others are left out, as {@link #ifCurrent} would refuse them.
   */
  <F extends Guarded> void ifCurrentEach(List<F> fills, Consumer<List<F>> fill) {
    List<F> maybe = new ArrayList<>(fills.size());
    for (F f : fills) {
      if (unchanged(f.stripe(), f.before())) {
        maybe.add(f);
      }
    }
    if (maybe.isEmpty()) {
      return;
    }
    int[] stripes = maybe.stream().mapToInt(Guarded::stripe).sorted().distinct().toArray();
    long stamp = clearing.readLock();
    try {
      holding(
          stripes,
          0,
          () -> {
            List<F> current = new ArrayList<>(maybe.size());
            for (F f : maybe) {
              if (seq.get(f.stripe()) == f.before()) {
                current.add(f);
              }
            }
            if (!current.isEmpty()) {
              fill.accept(current);
            }
          });
    } finally {
      clearing.unlockRead(stamp);
    }
  }

  /** Runs {@code r} holding the monitors of {@code stripes[from..]} (ascending). */
  private void holding(int[] stripes, int from, Runnable r) {
    if (from == stripes.length) {
      r.run();
      return;
    }
    synchronized (locks[stripes[from]]) {
      holding(stripes, from + 1, r);
    }
  }

  /** Runs {@code write} as a write of every key: no single-key write runs meanwhile. */
  void writeAll(Runnable write) {
    long stamp = clearing.writeLock();
    try {
      for (int i = 0; i < STRIPES; i++) {
        seq.incrementAndGet(i);
      }
      try {
        write.run();
      } finally {
        for (int i = 0; i < STRIPES; i++) {
          seq.incrementAndGet(i);
        }
      }
    } finally {
      clearing.unlockWrite(stamp);
    }
  }

  /** Every stripe's sequence now (for a fill of many keys, as in warming). */
  long[] snapshot() {
    long[] out = new long[STRIPES];
    for (int i = 0; i < STRIPES; i++) {
      out[i] = seq.get(i);
    }
    return out;
  }
}
