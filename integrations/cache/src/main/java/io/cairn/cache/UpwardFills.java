package io.cairn.cache;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies of a value found in a lower persistent tier into the persistent tiers above it, written
 * off the reader's thread (issue 16: a write into RocksDB on every L3 hit was a third of its cost;
 * see benchmarks/RESULTS-cache-tiers.md). The reader fills L1 itself and returns; the persistent
 * fill runs here.
 *
 * <p><b>Guarantees kept.</b> Each task re-checks the key's {@link WriteSequence} under the stripe
 * monitor when it runs ({@code WriteSequence.ifCurrent} with the sequence read <em>before</em> the
 * tiers were read): a put, invalidate, invalidateTag, invalidateAll or drop of any key of the
 * stripe since then makes the fill a no-op, so a late fill can never bring back a value that was
 * overwritten or invalidated. An entry expired by the time the task runs is not written. A fill is
 * a copy, never the only one: losing it (queue at close, a tier failure) costs a later read one
 * tier deeper, not data.
 *
 * <p><b>Resources.</b> One worker thread per cache ({@code cairn-cache-fill-<name>}, daemon),
 * started on the first fill and ended after {@value #IDLE_SECONDS} s without one; at most {@value
 * #QUEUE} fills wait. When the queue is full the reader runs the fill itself (back-pressure: the
 * fill is never skipped for lack of room). {@link #close} drops the waiting fills and waits for the
 * running one. A fill that throws is logged (first one at warning, then counted in {@link
 * #failures()}); storage failures are already handled by the tier (degradation).
 */
final class UpwardFills {
  private static final Logger log = LoggerFactory.getLogger(UpwardFills.class);
  static final int QUEUE = 1024;
  static final int IDLE_SECONDS = 10;

  private final String cacheName;
  private final ThreadPoolExecutor executor;
  private final AtomicInteger pending = new AtomicInteger();
  private final LongAdder failures = new LongAdder();

  UpwardFills(String cacheName) {
    this.cacheName = cacheName;
    this.executor =
        new ThreadPoolExecutor(
            1,
            1,
            IDLE_SECONDS,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(QUEUE),
            r -> {
              Thread t = new Thread(r, "cairn-cache-fill-" + cacheName);
              t.setDaemon(true);
              return t;
            },
            (task, pool) -> {
              if (pool.isShutdown()) {
                pending.decrementAndGet(); // closed: the fill is dropped
              } else {
                task.run(); // queue full: the reader fills (back-pressure)
              }
            });
    executor.allowCoreThreadTimeOut(true);
  }

  /** Runs {@code fill} on the worker (or, with the queue full, on this thread). */
  void submit(Runnable fill) {
    pending.incrementAndGet();
    try {
      executor.execute(
          () -> {
            try {
              fill.run();
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
            } finally {
              pending.decrementAndGet();
            }
          });
    } catch (RuntimeException e) {
      pending.decrementAndGet();
      throw e;
    }
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
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
        log.warn(
            "Cache '{}': an upward fill still runs 10 s after close; the backend may be closed"
                + " under it",
            cacheName);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    pending.set(0);
  }
}
