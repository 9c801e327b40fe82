package io.cairn.queue;

import com.codahale.metrics.Histogram;
import io.cairn.persistence.ClosedException;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.Transaction;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * Group commit: concurrent callers' writes of every kind (enqueues, leases, acks, nacks,
 * truncation) share one backend transaction, so N producers and consumers pay for one commit (one
 * fsync at {@code durability = full}) instead of N.
 *
 * <p><b>Committer thread.</b> A caller queues its request and parks. One thread per committer
 * drains every queued request (up to {@code maxBatch}), runs them in one {@link
 * StorageBackend#inTransaction}, runs their {@code onCommit} callbacks in submission order and
 * marks every caller done; then it starts the next batch at once with whatever was queued
 * meanwhile. So commits run back to back while callers of the previous batch run on other cores,
 * with no hand-off of leadership between batches (measured: a leader-based design lost that time
 * waking the next leader among a crowd of just-woken callers). When nothing is queued the thread
 * parks and the next caller unparks it.
 *
 * <p><b>Waking callers.</b> The committer wakes only the first two callers of a batch; each woken
 * caller wakes two more (a binary tree over the batch, {@link #wakeChildren}). Waking a parked
 * thread costs the waker several microseconds (a futex wake, on a VM an inter-processor interrupt);
 * measured with 16 callers on 2 cores, the committer spent a third of its time in {@code unpark}
 * when it woke every caller itself, time the next commit waited for.
 *
 * <p><b>Batch hook.</b> Before each shared transaction the leader asks the {@link BatchHook} (if
 * any) what to add, and after the requests' writes it adds that to the same transaction; the engine
 * uses it to lease messages to waiting pollers in the commit that also carries the enqueues. The
 * hook's after-commit action runs before the requests' {@code onCommit} callbacks; its failure
 * action runs if the transaction fails.
 *
 * <p><b>Failures.</b> If a shared transaction fails, the hook's failure action runs and each
 * request is retried alone (without the hook) so that one bad request does not fail the others; a
 * request whose own transaction fails throws that failure to its caller.
 *
 * <p>Thread-safe. {@code onCommit} callbacks and the hook run on the committer thread, so in-memory
 * state follows the stored state in commit order. {@link #close()} commits what is queued, then
 * stops the thread; later commits throw {@link ClosedException}.
 */
final class GroupCommitter {
  /** Extra writes added to each shared transaction; see the class comment. */
  interface BatchHook {
    /** Called at the start of every transaction the committer runs (shared or alone). */
    void begin();

    /**
     * Called on the committer thread, before the shared transaction starts and outside it (so it
     * may take locks that readers of the backend hold). {@code appends} is the number of log
     * records the batch's requests declared they append. Returns null to add nothing.
     */
    Outcome prepare(int appends);
  }

  /** A {@link BatchHook}'s part of one shared transaction. */
  interface Outcome {
    /**
     * Adds writes inside the transaction, after the requests' writes. Must not take locks that a
     * backend reader may hold while waiting for the backend (the transaction holds the backend).
     */
    void write(Transaction tx);

    /** After the transaction committed, before the requests' {@code onCommit} callbacks. */
    void committed();

    /** If the shared transaction failed (whether or not {@link #write} ran). */
    void failed(RuntimeException e);
  }

  private static final long RECHECK_NANOS = 100_000_000L;

  private final StorageBackend backend;
  private final String description;
  private final ConcurrentLinkedQueue<Request> pending = new ConcurrentLinkedQueue<>();
  private final List<Request> batch = new ArrayList<>();
  private final int maxBatch;
  private final Histogram batchSizes;
  private final Thread thread;
  private volatile BatchHook hook;
  private volatile boolean sleeping;
  private volatile boolean closed;

  /**
   * Starts the committer thread.
   *
   * @param description what commits, for the thread name and errors, e.g. {@code queue orders on
   *     main}
   */
  GroupCommitter(StorageBackend backend, String description, int maxBatch, Histogram batchSizes) {
    this.backend = backend;
    this.description = description;
    this.maxBatch = maxBatch;
    this.batchSizes = batchSizes;
    this.thread = new Thread(this::loop, "cairn-commit-" + description);
    thread.setDaemon(true);
    thread.start();
  }

  void setHook(BatchHook hook) {
    this.hook = hook;
  }

  private static final class Request {
    final int appends;
    final Consumer<Transaction> write;
    final Runnable onCommit;
    final Thread waiter = Thread.currentThread();
    RuntimeException failure;
    Request[] wakeGroup; // the batch this request completed in; null if completed alone
    int wakeIndex;
    volatile boolean done; // written after failure, so reading it publishes failure

    Request(int appends, Consumer<Transaction> write, Runnable onCommit) {
      this.appends = appends;
      this.write = write;
      this.onCommit = onCommit;
    }
  }

  /** As {@link #commit(int, Consumer, Runnable)} for a write that appends no log records. */
  void commit(Consumer<Transaction> write, Runnable onCommit) {
    commit(0, write, onCommit);
  }

  /**
   * Commits {@code write} (possibly together with other callers' writes), then runs {@code
   * onCommit}. Returns once committed. Must not be called from inside a {@code write}, {@code
   * onCommit} or hook (it would wait for itself).
   *
   * @param appends how many log records {@code write} appends (for the {@link BatchHook})
   * @throws ClosedException if the committer was closed
   * @throws RuntimeException the transaction's failure; nothing of {@code write} was committed (or,
   *     for a failure while committing, the outcome is that of a crash at that moment)
   */
  void commit(int appends, Consumer<Transaction> write, Runnable onCommit) {
    if (closed) {
      throw new ClosedException(description, "open the queue again");
    }
    Request r = new Request(appends, write, onCommit);
    pending.add(r);
    if (sleeping) {
      LockSupport.unpark(thread);
    }
    boolean interrupted = false;
    while (!r.done) {
      LockSupport.parkNanos(this, RECHECK_NANOS);
      if (!r.done && !thread.isAlive() && pending.remove(r)) {
        throw new ClosedException(description, "open the queue again"); // closed just as we queued
      }
      if (Thread.interrupted()) {
        interrupted = true; // a commit is not interruptible; restore the flag afterwards
      }
    }
    wakeChildren(r);
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (r.failure != null) {
      throw r.failure;
    }
  }

  private void loop() {
    while (true) {
      if (pending.isEmpty()) {
        if (closed) {
          return;
        }
        sleeping = true;
        if (pending.isEmpty() && !closed) {
          LockSupport.park(this);
        }
        sleeping = false;
        continue;
      }
      try {
        runBatch();
      } catch (Throwable t) {
        // runBatch completes every request it drained; an Error here is a bug or fatal anyway.
        for (Request q : batch) {
          if (!q.done) {
            finish(q, new IllegalStateException("group commit of " + description + " failed", t));
          }
        }
      }
    }
  }

  /** Commits what is queued, then stops the committer thread. Idempotent. */
  void close() {
    closed = true;
    LockSupport.unpark(thread);
    if (Thread.currentThread() == thread) {
      return;
    }
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

  // On the committer thread.
  private void runBatch() {
    batch.clear();
    Request next;
    while (batch.size() < maxBatch && (next = pending.poll()) != null) {
      batch.add(next);
    }
    if (batch.isEmpty()) {
      return;
    }
    if (batchSizes != null) {
      batchSizes.update(batch.size());
    }
    BatchHook h = hook;
    Outcome outcome = null;
    if (h != null) {
      int appends = 0;
      for (Request q : batch) {
        appends += q.appends;
      }
      outcome = h.prepare(appends);
    }
    Outcome o = outcome;
    try {
      backend.inTransaction(
          tx -> {
            if (h != null) {
              h.begin();
            }
            for (Request q : batch) {
              q.write.accept(tx);
            }
            if (o != null) {
              o.write(tx);
            }
            return null;
          });
    } catch (RuntimeException e) {
      if (o != null) {
        o.failed(e);
      }
      if (batch.size() == 1) {
        finish(batch.get(0), e);
      } else {
        List<Request> alone = new ArrayList<>(batch);
        for (Request q : alone) {
          runAlone(q);
        }
      }
      return;
    }
    if (o != null) {
      o.committed();
    }
    Request[] group = batch.toArray(new Request[0]);
    for (int i = 0; i < group.length; i++) {
      group[i].wakeGroup = group;
      group[i].wakeIndex = i;
      complete(group[i], null);
    }
    wake(group, 0);
    wake(group, 1);
  }

  /** Wakes the two callers below {@code r} in its batch's wake-up tree (see the class comment). */
  private static void wakeChildren(Request r) {
    Request[] group = r.wakeGroup;
    if (group != null) {
      wake(group, 2 * r.wakeIndex + 2);
      wake(group, 2 * r.wakeIndex + 3);
    }
  }

  private static void wake(Request[] group, int index) {
    if (index < group.length) {
      LockSupport.unpark(group[index].waiter);
    }
  }

  private void runAlone(Request q) {
    BatchHook h = hook;
    try {
      backend.inTransaction(
          tx -> {
            if (h != null) {
              h.begin();
            }
            q.write.accept(tx);
            return null;
          });
    } catch (RuntimeException e) {
      finish(q, e);
      return;
    }
    finish(q, null);
  }

  /** Completes {@code q} and wakes its caller. */
  private static void finish(Request q, RuntimeException failure) {
    complete(q, failure);
    LockSupport.unpark(q.waiter);
  }

  /** Runs {@code q}'s callback and marks it done, without waking its caller. */
  private static void complete(Request q, RuntimeException failure) {
    if (failure == null) {
      try {
        q.onCommit.run();
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    q.failure = failure;
    q.done = true;
  }
}
