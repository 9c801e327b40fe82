package io.cairn.persistence.spi;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background thread that removes expired key-value entries, written once for the backends that
 * sweep ({@code sweeper-interval}): one daemon thread named {@code cairn-<type>-sweeper-<backend>},
 * running the backend's purge with a fixed delay between runs.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li>A run that throws a {@link RuntimeException} is logged as a warning naming the backend (not
 *       while the backend is closing: its purge then fails by design) and the sweeper runs again
 *       after the next delay; it never stops by itself. An {@link Error} ends the sweeper (it is
 *       then not hidden: the executor's thread dies with it).
 *   <li>{@link #close()} interrupts a run in progress and waits up to ten seconds for it and the
 *       thread to end (the executor reports termination while its thread is still finishing, so
 *       close also joins the thread: once it returns, no sweeper thread of the backend is alive);
 *       idempotent; thread-safe.
 *   <li>{@link #start} with a zero interval starts no thread and returns a sweeper whose {@code
 *       close} does nothing.
 * </ul>
 */
public final class ExpirySweeper implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ExpirySweeper.class);

  private final ScheduledExecutorService executor; // null: sweeping is off
  private final String describe;
  private final LongSupplier purge;
  private final BooleanSupplier closing;
  private volatile Thread thread; // the executor's thread, joined by close

  private ExpirySweeper(
      ScheduledExecutorService executor,
      String describe,
      LongSupplier purge,
      BooleanSupplier closing) {
    this.executor = executor;
    this.describe = describe;
    this.purge = purge;
    this.closing = closing;
  }

  /**
   * Starts sweeping.
   *
   * @param threadName the daemon thread's name, e.g. {@code cairn-postgres-sweeper-main}
   * @param describe the backend, for log lines
   * @param interval the delay between the end of one run and the start of the next; zero: off
   * @param purge one run: removes expired entries, returns how many
   * @param closing true once the backend is closing (a failed run is then not logged as a warning)
   */
  public static ExpirySweeper start(
      String threadName,
      String describe,
      Duration interval,
      LongSupplier purge,
      BooleanSupplier closing) {
    Objects.requireNonNull(threadName, "threadName");
    Objects.requireNonNull(describe, "describe");
    Objects.requireNonNull(purge, "purge");
    Objects.requireNonNull(closing, "closing");
    if (interval.isNegative()) {
      throw new IllegalArgumentException("negative sweeper interval: " + interval);
    }
    if (interval.isZero()) {
      return new ExpirySweeper(null, describe, purge, closing);
    }
    ExpirySweeper[] self = new ExpirySweeper[1];
    ScheduledExecutorService executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, threadName);
              t.setDaemon(true);
              self[0].thread = t;
              return t;
            });
    ExpirySweeper sweeper = new ExpirySweeper(executor, describe, purge, closing);
    self[0] = sweeper; // before the first task is scheduled: the factory runs no earlier
    long period = Math.max(1, interval.toMillis());
    executor.scheduleWithFixedDelay(sweeper::sweepOnce, period, period, TimeUnit.MILLISECONDS);
    return sweeper;
  }

  /** Whether a thread sweeps (the interval was not zero). */
  public boolean running() {
    return executor != null;
  }

  /** One run, as the thread does it; failures are logged, never thrown. */
  void sweepOnce() {
    try {
      long n = purge.getAsLong();
      if (n > 0) {
        log.debug("{}: sweeper removed {} expired entries", describe, n);
      }
    } catch (RuntimeException e) {
      if (!closing.getAsBoolean()) {
        log.warn("{}: the expiry sweeper failed and will retry: {}", describe, e.toString());
      }
    }
  }

  /** Stops the thread: interrupts a run in progress and waits up to ten seconds for it. */
  @Override
  public void close() {
    if (executor == null) {
      return;
    }
    executor.shutdownNow();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    try {
      if (executor.awaitTermination(10, TimeUnit.SECONDS)) {
        Thread t = thread;
        long left = deadline - System.nanoTime();
        if (t != null && t != Thread.currentThread() && left > 0) {
          TimeUnit.NANOSECONDS.timedJoin(t, left);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
