package io.cairn.persistence.spi;

import java.time.Clock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The system clocks as volatile reads, for hot paths that need the time often but not exactly: a
 * cache hit checking expiry, a metrics meter deciding whether its 5-second tick has passed. Reading
 * {@link System#currentTimeMillis()} or {@link System#nanoTime()} costs about 45 ns on a virtual
 * machine (measured on this project's KVM guests with the {@code tsc} clock source), more than a
 * cache hit itself, so these callers read fields that one daemon thread, {@value #THREAD_NAME},
 * refreshes every {@value #RESOLUTION_MS} ms.
 *
 * <p><b>Guarantee.</b> {@link #millis()} and {@link #nanos()} are the system clocks as of the last
 * refresh: never ahead of them, behind by at most the refresh interval plus however long the
 * refresher waits to be scheduled (normally well under a few milliseconds; longer only if the JVM
 * or the machine stalls that thread). An expiry check against a lagging clock can therefore serve
 * an entry late by that lag, never drop it early. Never use it to time an operation: durations need
 * the exact clock.
 *
 * <p><b>Lifecycle.</b> One refresher per JVM, shared by reference count: {@link #acquire()} starts
 * it for the first user, {@link #release()} by the last user stops and joins it, so no thread
 * outlives the registries and caches that use it. Each {@code acquire} must be paired with exactly
 * one {@code release}. Thread-safe.
 */
public final class CoarseClock {
  /** Name of the refresher thread. */
  public static final String THREAD_NAME = "cairn-coarse-clock";

  /** Refresh interval in milliseconds. */
  public static final long RESOLUTION_MS = 1;

  private static final Object LOCK = new Object();
  private static CoarseClock shared; // guarded by LOCK
  private static int users; // guarded by LOCK

  private final Thread refresher;
  private volatile long millis = System.currentTimeMillis();
  private volatile long nanos = System.nanoTime();
  private volatile boolean stopped;
  private final com.codahale.metrics.Clock metricsClock =
      new com.codahale.metrics.Clock() {
        @Override
        public long getTick() {
          return nanos;
        }

        @Override
        public long getTime() {
          return millis;
        }
      };

  private CoarseClock() {
    refresher = new Thread(this::refreshUntilStopped, THREAD_NAME);
    refresher.setDaemon(true);
    refresher.start();
  }

  /** Whether {@code clock} is the system clock (in any zone): the only clock this one mirrors. */
  public static boolean mirrors(Clock clock) {
    return clock.getClass() == Clock.systemUTC().getClass();
  }

  /** The shared clock, starting its refresher if this is the first user. */
  public static CoarseClock acquire() {
    synchronized (LOCK) {
      if (shared == null) {
        shared = new CoarseClock();
      }
      users++;
      return shared;
    }
  }

  /**
   * Gives back one {@link #acquire()}; the last release stops and joins the refresher.
   *
   * @throws IllegalStateException if released more often than acquired
   */
  public void release() {
    synchronized (LOCK) {
      if (shared != this || users == 0) {
        throw new IllegalStateException("CoarseClock released more often than acquired");
      }
      if (--users > 0) {
        return;
      }
      shared = null;
      stopped = true;
    }
    LockSupport.unpark(refresher);
    boolean interrupted = false;
    while (refresher.isAlive()) {
      try {
        refresher.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Epoch milliseconds ({@link System#currentTimeMillis()}) as of the last refresh. */
  public long millis() {
    return millis;
  }

  /** {@link System#nanoTime()} as of the last refresh. */
  public long nanos() {
    return nanos;
  }

  /**
   * This clock as a Dropwizard clock, for meters and reservoir decay (both work in seconds); not
   * for the durations a {@code Timer} measures.
   */
  public com.codahale.metrics.Clock metricsClock() {
    return metricsClock;
  }

  /** Whether the shared refresher thread is running (for tests and diagnostics). */
  public static boolean running() {
    synchronized (LOCK) {
      return shared != null;
    }
  }

  private void refreshUntilStopped() {
    long interval = TimeUnit.MILLISECONDS.toNanos(RESOLUTION_MS);
    while (!stopped) {
      millis = System.currentTimeMillis();
      nanos = System.nanoTime();
      LockSupport.parkNanos(this, interval);
    }
  }
}
