package io.cairn.cache;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongUnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes expired L1 copies of the caches that check expiry against the system clock ({@code
 * l1.coarse-clock = true}, the default), so that their hits check nothing: one daemon thread,
 * {@value #THREAD_NAME}, sleeps until the earliest expiry any of them recorded and removes the
 * copies due then. Measured on this project's VMs, a hit that reads any volatile field (the coarse
 * clock, or a flag) costs about 15 cycles more than one that does not, a third of a raw Caffeine
 * hit.
 *
 * <p><b>Guarantee.</b> A copy is removed at most this thread's lag after its expiry: the timer's
 * wake-up delay (normally well under a millisecond), plus the time to remove the copies due
 * together, plus any time the thread is not scheduled (a starved machine, a JVM pause). It is never
 * removed early. A cache {@linkplain #wake wakes} the thread when it records an expiry earlier than
 * the one the thread sleeps until; the thread also wakes every {@value #MAX_SLEEP_MS} ms, which
 * bounds the effect of a wall-clock step.
 *
 * <p><b>Lifecycle.</b> Shared by reference count like {@link io.cairn.persistence.spi.CoarseClock}:
 * the first {@link #register} starts the thread, the last {@link #unregister} stops and joins it.
 * Thread-safe.
 */
final class L1Sweeper {
  /** Name of the sweeper thread. */
  static final String THREAD_NAME = "cairn-cache-expiry";

  /** Longest sleep between sweeps, in milliseconds. */
  static final long MAX_SLEEP_MS = 100;

  private static final Logger log = LoggerFactory.getLogger(L1Sweeper.class);
  private static final Object LOCK = new Object();
  private static L1Sweeper shared; // guarded by LOCK

  /** Registered caches: each removes its copies due at the given epoch ms, returns its next. */
  private final CopyOnWriteArrayList<LongUnaryOperator> caches = new CopyOnWriteArrayList<>();

  private final Thread thread;
  private volatile long sleepsUntil = Long.MIN_VALUE; // epoch ms the thread sleeps until
  private volatile boolean stopped;
  private boolean failureLogged; // sweeper thread only

  /** Pause before retrying a cache whose sweep failed, in milliseconds. */
  static final long RETRY_MS = 10;

  private L1Sweeper() {
    thread = new Thread(this::run, THREAD_NAME);
    thread.setDaemon(true);
  }

  /**
   * Registers {@code sweep} (removes the copies due at its argument, epoch ms, and returns the
   * earliest remaining expiry or {@link Long#MAX_VALUE}); returns the sweeper to {@link #wake} and
   * {@link #unregister} with.
   */
  static L1Sweeper register(LongUnaryOperator sweep) {
    synchronized (LOCK) {
      boolean start = shared == null;
      if (start) {
        shared = new L1Sweeper();
      }
      shared.caches.add(sweep);
      if (start) {
        shared.thread.start();
      }
      return shared;
    }
  }

  /** Unregisters {@code sweep}; the last one stops and joins the thread. */
  void unregister(LongUnaryOperator sweep) {
    synchronized (LOCK) {
      caches.remove(sweep);
      if (!caches.isEmpty() || shared != this) {
        return;
      }
      shared = null;
      stopped = true;
    }
    LockSupport.unpark(thread);
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Tells the thread that a copy expires at {@code at} (epoch ms); wakes it if that is earlier. */
  void wake(long at) {
    if (at < sleepsUntil) {
      LockSupport.unpark(thread);
    }
  }

  /** Whether the shared thread is running (for tests). */
  static boolean running() {
    synchronized (LOCK) {
      return shared != null;
    }
  }

  private void run() {
    while (!stopped) {
      long now = System.currentTimeMillis();
      long next = Long.MAX_VALUE;
      for (LongUnaryOperator sweep : caches) {
        next = Math.min(next, sweepOne(sweep, now));
      }
      long until = Math.min(next, now + MAX_SLEEP_MS);
      sleepsUntil = until;
      // A cache that recorded an earlier expiry after its sweep above but before sleepsUntil was
      // set did not wake this thread: look again before sleeping.
      for (LongUnaryOperator sweep : caches) {
        until = Math.min(until, sweepOne(sweep, Long.MIN_VALUE));
      }
      long sleep = until - System.currentTimeMillis();
      if (sleep > 0) {
        LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(sleep));
      }
      sleepsUntil = Long.MIN_VALUE; // awake: nobody needs to unpark
    }
  }

  /**
   * One cache's sweep. A failure (a bug, or an exception from a value's {@code hashCode}/{@code
   * equals}) must not stop the thread that enforces every cache's expiry: the first is logged and
   * that cache is tried again in {@value #RETRY_MS} ms.
   */
  private long sweepOne(LongUnaryOperator sweep, long now) {
    try {
      return sweep.applyAsLong(now);
    } catch (RuntimeException e) {
      if (!failureLogged) {
        failureLogged = true;
        log.warn(
            "Removing expired L1 cache entries failed (expired entries may be served until it"
                + " succeeds); retrying every "
                + RETRY_MS
                + " ms, further failures not logged",
            e);
      }
      return System.currentTimeMillis() + RETRY_MS;
    }
  }
}
