package io.cairn.persistence.spi;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The close guard of {@link EngineBackend}: every call counts itself in flight while it runs, and
 * {@link #close(Runnable)} refuses new calls, waits until none is in flight, then releases. Same
 * contract as the shared side of a read-write lock (calls) against its exclusive side (close), at a
 * lower cost per call when many threads call at once.
 *
 * <h2>Why counters, not a {@code ReentrantReadWriteLock}</h2>
 *
 * Taking the shared side of one {@code ReentrantReadWriteLock} compare-and-sets one word that every
 * calling thread writes, so at several threads its cache line moves between cores on every call
 * (7.6 % of a base get's CPU at 8 threads on SQLite, benchmarks/RESULTS-sqlite-port.md on branch
 * h-sqport), and it keeps a per-thread hold count in a {@code ThreadLocal}. Here a call increments
 * and decrements one of {@value #CELLS} counters, chosen by its thread's id and 128 bytes apart, so
 * threads mostly write lines of their own; close, which is rare, sums them.
 *
 * <h2>Rules</h2>
 *
 * <ul>
 *   <li>{@link #enter()} increments its cell, then reads the closed flag; {@link #close} sets the
 *       flag, then reads the cells. Both are volatile accesses (the increment an atomic
 *       read-modify-write), so in their one total order either the call's increment comes before
 *       close reads that cell (close waits for the call) or close set the flag before the call read
 *       it (the call backs out, decrementing, and throws): no call runs after close found none in
 *       flight.
 *   <li>Calls may nest on one thread (a cell counts how many are in flight, whoever they are).
 *       {@link #exit(int)} takes the cell {@link #enter()} returned.
 *   <li>{@link #close} runs once: a second call, also concurrent, returns {@code false} once the
 *       first has released. Close waits by polling (spinning briefly, then parking 50 us at a
 *       time): it is rare and waits only for calls already running. Like the lock it replaces,
 *       close from inside a call of the same backend would wait for itself; the base never does
 *       that.
 *   <li>Memory effects: everything a call did happens-before the release that close runs (its
 *       decrement is a volatile write close reads).
 * </ul>
 */
final class CloseGuard {
  /** Counters: a power of two, well above the threads that call at once. */
  static final int CELLS = 64;

  /** Longs between two counters: 128 bytes, so neighbours share no cache line (nor its pair). */
  private static final int SPACING = 16;

  private static final int SHIFT = 64 - Integer.numberOfTrailingZeros(CELLS);

  private final AtomicLongArray inFlight = new AtomicLongArray(CELLS * SPACING);
  private volatile boolean closed;

  /** Whether {@link #close} has started: calls are refused. */
  boolean isClosed() {
    return closed;
  }

  /**
   * Counts a call in flight and returns its cell for {@link #exit(int)}, or returns -1, counting
   * nothing, when the guard is closed (the caller throws).
   */
  int enter() {
    int cell = cellOf(Thread.currentThread());
    inFlight.getAndIncrement(cell);
    if (closed) {
      inFlight.getAndDecrement(cell);
      return -1;
    }
    return cell;
  }

  /** Ends the call {@link #enter()} counted in {@code cell}. */
  void exit(int cell) {
    inFlight.getAndDecrement(cell);
  }

  /**
   * Refuses new calls, waits until none is in flight, then runs {@code release}. Returns whether
   * this call closed (false: closed before).
   */
  synchronized boolean close(Runnable release) {
    if (closed) {
      return false;
    }
    closed = true;
    for (int spins = 0; busy(); spins++) {
      if (spins < 100) {
        Thread.onSpinWait();
      } else {
        LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
      }
    }
    release.run();
    return true;
  }

  private boolean busy() {
    for (int i = 0; i < CELLS; i++) {
      if (inFlight.get(i * SPACING) != 0) {
        return true;
      }
    }
    return false;
  }

  /** The cell of {@code thread}: its id, spread by Fibonacci hashing (consecutive ids differ). */
  @SuppressWarnings("deprecation") // Thread.getId: threadId() needs Java 19
  private static int cellOf(Thread thread) {
    return (int) ((thread.getId() * 0x9E3779B97F4A7C15L) >>> SHIFT) * SPACING;
  }
}
