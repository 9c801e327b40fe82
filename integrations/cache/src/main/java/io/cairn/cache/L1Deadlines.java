package io.cairn.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.Function;

/**
 * When the L1 copies of a tiered cache expire, kept beside L1 so that a hit checks one field
 * ({@link #next()}) instead of an expiry stored with each value (which would need a holder object
 * per value, one more dependent memory load per hit).
 *
 * <p>One record per stored L1 copy with an expiry: its key, the identity hash of the value object
 * stored and the absolute expiry (epoch ms). {@link #next()} is the earliest expiry recorded; while
 * the clock is before it no L1 copy has expired. When it has passed, the cache removes the due
 * copies ({@link #pollDue}) and then {@link #updateNext()}. A record outlives its copy when the
 * copy is replaced, invalidated or evicted ("stale"); processing it then removes nothing, because
 * the value in L1 is a different object, and stale records are dropped in bulk once they outnumber
 * the live ones (see {@link #add}), so their number stays within the L1 size plus {@value #SLACK}.
 * A stale record whose key holds the very same value object again (re-put of one instance, or an
 * identity-hash collision) drops that copy early: an L1 miss that L2 answers, never a late serve.
 *
 * <p>Records are added after the copy is visible in L1 (so that {@link #add} can drop stale records
 * by looking at L1 without racing a store that has not finished). Thread-safe.
 */
final class L1Deadlines<K> {
  /** Stale records tolerated beyond the L1 size before they are dropped. */
  static final int SLACK = 1024;

  /** One stored copy: its key, the identity hash of its value object, its expiry (epoch ms). */
  record Due<K>(K key, int identity, long at) {
    /** Whether {@code value} is the object this record was made for (by identity hash). */
    boolean matches(Object value) {
      return System.identityHashCode(value) == identity;
    }
  }

  private final PriorityQueue<Due<K>> queue =
      new PriorityQueue<>((a, b) -> Long.compare(a.at(), b.at())); // guarded by this
  private volatile long next = Long.MAX_VALUE;

  /** Earliest recorded expiry (epoch ms); {@link Long#MAX_VALUE} if none. */
  long next() {
    return next;
  }

  /**
   * Records that {@code value} was stored under {@code key} in L1 and expires at {@code at}. If
   * stale records then outnumber the live ones ({@code size} is the L1 entry count), drops every
   * record whose key no longer holds a value with that identity ({@code current} reads L1 without
   * side effects).
   */
  synchronized void add(K key, Object value, long at, long size, Function<K, Object> current) {
    queue.add(new Due<>(key, System.identityHashCode(value), at));
    if (at < next) {
      next = at;
    }
    if (queue.size() > 2 * size + SLACK) {
      // next is left as it is (it may now be earlier than needed, which only costs one sweep
      // that finds nothing): raising it here could hide copies a running sweep has yet to remove.
      queue.removeIf(
          d -> {
            Object v = current.apply(d.key());
            return v == null || !d.matches(v);
          });
    }
  }

  /**
   * Removes and returns the records due at {@code now} (expiry at or before it); {@link #next()}
   * keeps its old value until {@link #updateNext()}, so that hits keep taking the slow path until
   * the caller removed their copies.
   */
  synchronized List<Due<K>> pollDue(long now) {
    List<Due<K>> due = new ArrayList<>();
    while (!queue.isEmpty() && queue.peek().at() <= now) {
      due.add(queue.poll());
    }
    return due;
  }

  /** Puts back records taken by {@link #pollDue} that could not be processed. */
  synchronized void restore(List<Due<K>> records) {
    for (Due<K> d : records) {
      queue.add(d);
      if (d.at() < next) {
        next = d.at();
      }
    }
  }

  /** Sets {@link #next()} to the earliest remaining expiry. */
  synchronized void updateNext() {
    next = queue.isEmpty() ? Long.MAX_VALUE : queue.peek().at();
  }

  /** Forgets every record (L1 was cleared). */
  synchronized void clear() {
    queue.clear();
    next = Long.MAX_VALUE;
  }

  /** Number of records, live and stale (for tests). */
  synchronized int size() {
    return queue.size();
  }
}
