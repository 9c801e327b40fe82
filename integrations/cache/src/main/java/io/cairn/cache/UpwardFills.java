package io.cairn.cache;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies of a value found in a persistent tier into the tiers above it, written off the reader's
 * thread (issue 16: a write into RocksDB on every L3 hit was a third of its cost, Caffeine's insert
 * with its eviction a fifth of an L2 hit's; see benchmarks/RESULTS-cache-tiers.md). Every tier hit
 * hands over its L1 fill and, below the top tier, its persistent fill.
 *
 * <p><b>Batches.</b> The worker takes what waits, up to {@value #BATCH} fills, and hands them to
 * the cache's runner together ({@code TieredCache.runFills}), which writes the persistent fills of
 * one batch into each tier as one transaction: one commit per batch instead of a write (and an
 * eviction's delete) per fill, so that the worker stays ahead of readers whose own tier read costs
 * less than a write (before batching, an L3 hit's fill cost the worker as much CPU as the reader's
 * whole hit, and the worker fell behind once L1's fill was added to it).
 *
 * <p><b>Guarantees kept.</b> Each task re-checks the key's {@link WriteSequence} when it runs,
 * against the sequence read <em>before</em> the tiers were read: the persistent fill under the
 * stripe monitor ({@code WriteSequence.ifCurrent}), the L1 fill inside Caffeine's {@code compute}
 * of the key, which a write's own L1 step also takes ({@code L1Tier.fill}): a put, invalidate,
 * invalidateTag, invalidateAll or drop of any key of the stripe since then makes the fill a no-op,
 * so a late fill can never bring back a value that was overwritten or invalidated, however long it
 * waited here. An entry expired by the time the task runs is not written. A fill is a copy, never
 * the only one: losing it (queue at close, a tier failure, a crash) costs a later read one tier
 * deeper, not data.
 *
 * <p><b>Why the worker polls instead of being woken per fill.</b> The hand-off used to be a {@code
 * ThreadPoolExecutor}: every submit signalled its queue's condition, and since the worker usually
 * drained the queue before the next L3 hit came, that signal was an {@code unpark} (a futex system
 * call) on nearly every L3 hit: the hand-off was 8-16% of the reader's CPU, the wake-up 4.4-12%
 * (profiles in RESULTS-cache-tiers.md; 0.4% with this hand-off, 2026-12-06 morning). Here a submit
 * is a lock-free enqueue and a volatile read; while fills keep coming the worker drains the queue,
 * then sleeps {@value #POLL_MICROS} µs on a timer (nobody wakes it) and drains again, so a fill is
 * written within about that long. Only after {@value #POLLS} empty polls does it announce a long
 * sleep ({@code sleeping}); a submit that sees that flag wakes it (the first fill after a quiet
 * spell pays the wake-up, as before). The Dekker pair (submit: enqueue, then read {@code sleeping};
 * worker: set {@code sleeping}, then look at the queue, both volatile) means a fill is never left
 * waiting for a worker that sleeps. The worker ends after {@value #IDLE_SECONDS} s without a fill
 * and is started again on demand.
 *
 * <p><b>Resources.</b> One worker thread per cache ({@code cairn-cache-fill-<name>}, daemon); at
 * most {@value #QUEUE} fills wait. When that many wait the reader hands the fill to the cache's
 * overflow handler on its own thread ({@code TieredCache.overflowFill}: it makes the L1 copy, so
 * that a hot key still reaches memory under overload, and drops the copy into persistent tiers,
 * counted in {@code upward-fills-shed}: such a copy is a tier write, which costs the reader more
 * than the read it copies; profile in RESULTS-cache-tiers.md, 2026-12-06 noon). {@link #close}
 * drops the waiting fills and waits for the running one. A fill that throws is logged (first one at
 * warning, then counted in {@link #failures()}); storage failures are already handled by the tier
 * (degradation).
 */
final class UpwardFills<T> {
  private static final Logger log = LoggerFactory.getLogger(UpwardFills.class);
  // ~6 ms of L2 hits at ~1.5 us each: the worker shares 2 cores with the readers and is
  // descheduled for milliseconds at a time; 1,024 (~1.5 ms) overflowed in those gaps (4% of an L2
  // hit's reader CPU went to fills it ran itself)
  static final int QUEUE = 4096;
  static final int IDLE_SECONDS = 10;
  static final int POLL_MICROS = 500;
  static final int POLLS = 200; // 0.1 s of timed polls before a sleep that needs a wake-up
  static final int BATCH = 64;

  private final String cacheName;
  private final long idleNanos;
  private final Consumer<List<T>> runner;
  private final Consumer<T> overflow;
  private final ConcurrentLinkedQueue<T> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger pending = new AtomicInteger(); // waiting + running
  private final LongAdder failures = new LongAdder();
  private final Object lifecycle = new Object(); // starting, ending and closing the worker
  private volatile Thread worker; // null: none running
  private volatile boolean sleeping = true; // the worker (if any) needs an unpark to see a fill
  private volatile boolean closed;
  private volatile int largestBatch; // for tests

  /**
   * {@code runner} runs a batch of fills on the worker (in submission order; never an empty one);
   * {@code overflow} a fill the queue has no room for, on the submitting thread.
   */
  UpwardFills(String cacheName, Consumer<List<T>> runner, Consumer<T> overflow) {
    this(cacheName, TimeUnit.SECONDS.toMillis(IDLE_SECONDS), runner, overflow);
  }

  /** With the worker ending after {@code idleMillis} without a fill (tests use a short one). */
  UpwardFills(String cacheName, long idleMillis, Consumer<List<T>> runner, Consumer<T> overflow) {
    this.cacheName = cacheName;
    this.idleNanos = TimeUnit.MILLISECONDS.toNanos(idleMillis);
    this.runner = runner;
    this.overflow = overflow;
  }

  /**
   * Runs {@code fill} on the worker (or, with {@value #QUEUE} waiting, hands it to the overflow
   * handler on this thread).
   */
  void submit(T fill) {
    if (closed) {
      return; // closing: a copy, dropped like the waiting ones
    }
    if (pending.incrementAndGet() > QUEUE) {
      pending.decrementAndGet();
      run(List.of(fill), true); // back-pressure: the reader's overflow handler
      return;
    }
    queue.offer(fill);
    if (sleeping) {
      wake();
    }
  }

  private void wake() {
    synchronized (lifecycle) {
      if (closed) {
        return;
      }
      Thread w = worker;
      if (w == null) {
        w = new Thread(this::work, "cairn-cache-fill-" + cacheName);
        w.setDaemon(true);
        worker = w;
        sleeping = false;
        w.start();
      } else {
        LockSupport.unpark(w);
      }
    }
  }

  private void work() {
    int empty = 0;
    long idleSince = System.nanoTime();
    List<T> batch = new ArrayList<>(BATCH);
    while (!closed) {
      for (T fill; batch.size() < BATCH && (fill = queue.poll()) != null; ) {
        batch.add(fill);
      }
      if (!batch.isEmpty()) {
        if (batch.size() > largestBatch) {
          largestBatch = batch.size();
        }
        try {
          run(batch, false);
        } finally {
          pending.addAndGet(-batch.size());
          batch.clear();
        }
        empty = 0;
        continue;
      }
      if (empty == 0) {
        idleSince = System.nanoTime();
      }
      if (empty < POLLS) {
        empty++;
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(POLL_MICROS));
        continue;
      }
      sleeping = true;
      if (!queue.isEmpty()) {
        sleeping = false; // a submit may have missed the flag: drain instead of sleeping
        empty = 0;
        continue;
      }
      LockSupport.parkNanos(Math.max(0, idleNanos - (System.nanoTime() - idleSince)));
      synchronized (lifecycle) {
        if (closed || (queue.isEmpty() && System.nanoTime() - idleSince >= idleNanos)) {
          // sleeping stays true: the next submit starts a new worker
          worker = null;
          return;
        }
      }
      sleeping = false; // woken (or idle time not yet up): drain, or go back to sleep
    }
  }

  private void run(List<T> fills, boolean overflowing) {
    try {
      if (overflowing) {
        overflow.accept(fills.get(0));
      } else {
        runner.accept(fills);
      }
    } catch (RuntimeException | Error e) {
      failures.increment();
      if (failures.sum() == 1) {
        log.warn(
            "Cache '{}': copying a value into the tiers above the one that answered failed"
                + " ({}); the value is still served and stays in the lower tier. Further"
                + " failures are logged at debug level.",
            cacheName,
            e.toString());
      } else {
        log.debug("Cache '{}': upward fill failed: {}", cacheName, e.toString());
      }
    }
  }

  /** The most fills the worker has run as one batch (tests). */
  int largestBatch() {
    return largestBatch;
  }

  /** Fills that threw (not counting storage failures the tier absorbed). */
  long failures() {
    return failures.sum();
  }

  /** Waits until no fill is waiting or running (tests); false if that took over {@code millis}. */
  boolean awaitIdle(long millis) {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (pending.get() > 0) {
      if (System.nanoTime() > end) {
        return false;
      }
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  /** Drops the waiting fills and waits (up to 10 s) for the running one. */
  void close() {
    Thread w;
    synchronized (lifecycle) {
      closed = true;
      w = worker;
      worker = null;
    }
    queue.clear();
    if (w != null) {
      LockSupport.unpark(w);
      try {
        w.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (w.isAlive()) {
        log.warn(
            "Cache '{}': an upward fill still runs 10 s after close; the backend may be closed"
                + " under it",
            cacheName);
      }
    }
    pending.set(0); // the dropped fills (the worker has ended, or is abandoned above)
  }
}
