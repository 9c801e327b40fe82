package io.cairn.cache;

import java.time.Clock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The wall clock, in epoch milliseconds, as one volatile read: what an L1 hit checks expiry
 * against. Reading the system clock costs about 45 ns on a virtual machine (measured here on a KVM
 * guest with the {@code tsc} clock source), more than the rest of an L1 hit, so a hit reads this
 * field instead and one daemon thread, {@value #THREAD_NAME}, refreshes it every {@value
 * #RESOLUTION_MS} ms.
 *
 * <p><b>Guarantee.</b> The value is the system clock as of the last refresh: it never runs ahead of
 * {@link System#currentTimeMillis()}, it lags by at most the refresh interval plus however long the
 * refresher thread waits to be scheduled (normally well under a few milliseconds; longer only if
 * the JVM or machine stalls it). An expiry check against a lagging clock can therefore serve an
 * entry late by that lag, never drop it early. Callers that need exactness read the registry clock.
 *
 * <p><b>Lifecycle.</b> One refresher per JVM, shared by reference count: {@link #acquire()} starts
 * it for the first user, {@link #release()} by the last user stops and joins it, so no thread
 * outlives the caches that use it. Thread-safe.
 */
final class CoarseClock implements LongSupplier {
  static final String THREAD_NAME = "cairn-cache-clock";
  static final long RESOLUTION_MS = 1;

  private static final Object LOCK = new Object();
  private static CoarseClock shared; // guarded by LOCK
  private static int users; // guarded by LOCK

  private final Thread refresher;
  private volatile long millis = System.currentTimeMillis();
  private volatile boolean stopped;

  private CoarseClock() {
    refresher = new Thread(this::refreshUntilStopped, THREAD_NAME);
    refresher.setDaemon(true);
    refresher.start();
  }

  /** Whether {@code clock} is the system clock (in any zone), the only clock this one mirrors. */
  static boolean mirrors(Clock clock) {
    return clock.getClass() == Clock.systemUTC().getClass();
  }

  /** The shared clock, starting its refresher if this is the first user. */
  static CoarseClock acquire() {
    synchronized (LOCK) {
      if (shared == null) {
        shared = new CoarseClock();
      }
      users++;
      return shared;
    }
  }

  /** Gives back one {@link #acquire()}; the last release stops and joins the refresher. */
  void release() {
    CoarseClock stopping;
    synchronized (LOCK) {
      if (shared != this || users == 0) {
        throw new IllegalStateException("CoarseClock released more often than acquired");
      }
      if (--users > 0) {
        return;
      }
      shared = null;
      stopping = this;
      stopping.stopped = true;
    }
    LockSupport.unpark(stopping.refresher);
    boolean interrupted = false;
    while (stopping.refresher.isAlive()) {
      try {
        stopping.refresher.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Epoch milliseconds as of the last refresh (see the class comment for the bound). */
  @Override
  public long getAsLong() {
    return millis;
  }

  /** Whether the shared refresher thread is running (for tests). */
  static boolean running() {
    synchronized (LOCK) {
      return shared != null;
    }
  }

  private void refreshUntilStopped() {
    long interval = TimeUnit.MILLISECONDS.toNanos(RESOLUTION_MS);
    while (!stopped) {
      millis = System.currentTimeMillis();
      LockSupport.parkNanos(this, interval);
    }
  }
}
