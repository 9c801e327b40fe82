package io.cairn.backend.rocksdb;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs a check that must pass before each write, sharing one run among writers that arrive
 * together: the data directory's presence check ({@code DataDirectory#beforeWrite}) before every
 * write at {@code durability = full}, two {@code stat} calls that cost about a tenth of the CPU of
 * a synced put when eight writers share one fsync.
 *
 * <p>Contract: {@link #await()} returns only after a run of the check that <b>started after the
 * call began</b> completed without throwing; so a write that follows {@code await()} is preceded by
 * a check at least as recent as a check made by the writer itself (which also runs at some instant
 * between the call and the write). A run that throws is shared with no one: each writer then runs
 * the check itself and gets the exception. A run that started before a writer arrived never counts
 * for it, whatever its result: a directory deleted just before a write began is always seen.
 *
 * <p>How: every arrival and every run's start take a ticket from one counter; a writer is covered
 * once a run whose start ticket is above its arrival ticket has completed. Writers not covered
 * queue on one lock; the first through runs the check for all that arrived before that run started,
 * the rest find themselves covered. Thread-safe.
 */
final class CoalescedCheck {
  private final Runnable check;
  private final AtomicLong tickets = new AtomicLong();
  private final ReentrantLock running = new ReentrantLock();

  /** The start ticket of the latest run that completed without throwing. */
  private volatile long passedFrom;

  CoalescedCheck(Runnable check) {
    this.check = check;
  }

  /** Returns once a run of the check that started after this call passed; else throws its error. */
  void await() {
    long arrived = tickets.incrementAndGet();
    if (passedFrom > arrived) {
      return;
    }
    running.lock();
    try {
      if (passedFrom > arrived) {
        return;
      }
      long start = tickets.incrementAndGet();
      check.run();
      passedFrom = start;
    } finally {
      running.unlock();
    }
  }

  /** Callers queued behind a running check (for tests). */
  int queued() {
    return running.getQueueLength();
  }
}
