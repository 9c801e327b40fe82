package io.cairn.queue;

import com.codahale.metrics.Histogram;
import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.Transaction;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <p><b>Pipelined sync.</b> At {@code durability = full} the committer commits with {@link
 * StorageBackend#inTransactionDeferred} (written and visible, not yet fsynced) and hands the batch
 * to a second thread, the syncer, which calls {@link StorageBackend#syncCommitted} and only then
 * completes the batch's callers. So the fsync of one batch overlaps the next batch's work, and one
 * fsync covers every batch committed while the previous one ran. A caller still returns only once
 * its write is durable. In-memory state ({@code onCommit}, {@link Outcome#committed}) follows the
 * commit, before the sync: it is read only by later commits, which are durable only after this one
 * (a sync covers a prefix of the commit order). What reaches another thread ({@link
 * Outcome#synced}, the callers' return) waits for the sync. If a sync fails, every caller whose
 * batch was not yet synced gets that failure, and the committer refuses all later commits: the
 * in-memory state may now be ahead of storage, so the queue must be closed and opened again. At
 * {@code none} and {@code normal} there is nothing to sync and the committer completes its batches
 * itself.
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
 * stops the thread; later commits throw {@link BackendClosedException}.
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

    /**
     * After the transaction committed, before the requests' {@code onCommit} callbacks, on the
     * committer thread; the commit may not be durable yet.
     */
    void committed();

    /** Once the commit is durable (after {@link #committed}); may run on the syncer thread. */
    void synced();

    /**
     * If the commit could not be made durable (after {@link #committed}); the queue is unusable
     * from then on.
     */
    void syncFailed(RuntimeException e);

    /** If the shared transaction failed (whether or not {@link #write} ran). */
    void failed(RuntimeException e);
  }

  private static final long RECHECK_NANOS = 100_000_000L;

  /**
   * Batches committed ahead of the sync: one being synced, one waiting. More would let the
   * committer run many small commits while a sync runs, each costing CPU the callers need.
   */
  private static final int MAX_UNSYNCED = 2;

  private final StorageBackend backend;
  private final String description;
  private final ConcurrentLinkedQueue<Request> pending = new ConcurrentLinkedQueue<>();
  private final List<Request> batch = new ArrayList<>();
  private final int maxBatch;
  private final Histogram batchSizes;
  private final Thread thread;
  private final boolean pipelined;
  private final Thread syncer; // null unless pipelined
  private final ConcurrentLinkedQueue<Committed> unsynced = new ConcurrentLinkedQueue<>();
  private volatile BatchHook hook;
  private volatile boolean sleeping;
  private volatile boolean closed;
  private volatile boolean syncerSleeping;
  private volatile boolean committerStopped;
  private volatile RuntimeException syncFailure; // the first failed sync; later commits refused
  private final AtomicInteger unsettled = new AtomicInteger(); // committed, not yet synced batches

  /** A batch committed but not yet synced: its callers and its hook outcome (may be null). */
  private record Committed(Request[] group, Outcome outcome) {}

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
    this.pipelined = backend.durability() == Durability.FULL;
    this.thread = new Thread(this::loop, "cairn-commit-" + description);
    thread.setDaemon(true);
    if (pipelined) {
      syncer = new Thread(this::syncLoop, "cairn-sync-" + description);
      syncer.setDaemon(true);
      syncer.start();
    } else {
      syncer = null;
    }
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
   * @throws BackendClosedException if the committer was closed
   * @throws RuntimeException the transaction's failure; nothing of {@code write} was committed (or,
   *     for a failure while committing, the outcome is that of a crash at that moment)
   */
  void commit(int appends, Consumer<Transaction> write, Runnable onCommit) {
    if (closed) {
      throw new BackendClosedException(description);
    }
    RuntimeException broken = syncFailure;
    if (broken != null) {
      throw brokenException(broken);
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
        throw new BackendClosedException(description); // closed just as we queued
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

  private static StorageEngineException brokenException(RuntimeException cause) {
    return new StorageEngineException(
        "A sync of committed writes failed earlier ("
            + cause.getMessage()
            + "); what was committed since may not be durable and the in-memory state may be ahead"
            + " of storage. Close the queue and open it again (recovery reads the stored state).",
        cause);
  }

  private void loop() {
    try {
      commitLoop();
    } finally {
      committerStopped = true;
      if (syncer != null) {
        LockSupport.unpark(syncer);
      }
    }
  }

  private void commitLoop() {
    while (true) {
      while (pipelined
          && unsettled.get() >= MAX_UNSYNCED
          && syncFailure == null
          && syncer.isAlive()) {
        LockSupport.park(this); // the syncer unparks this thread when it settles a batch
      }
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
    boolean interrupted = join(thread);
    if (syncer != null) {
      LockSupport.unpark(syncer);
      interrupted |= join(syncer);
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Waits for {@code t} to end; returns whether this thread was interrupted meanwhile. */
  private static boolean join(Thread t) {
    boolean interrupted = false;
    while (t.isAlive()) {
      try {
        t.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    return interrupted;
  }

  /** The syncer thread: syncs every batch committed so far, then completes their callers. */
  private void syncLoop() {
    List<Committed> taken = new ArrayList<>();
    while (true) {
      if (unsynced.isEmpty()) {
        if (committerStopped && unsynced.isEmpty()) {
          return;
        }
        syncerSleeping = true;
        if (unsynced.isEmpty() && !committerStopped) {
          LockSupport.park(this);
        }
        syncerSleeping = false;
        continue;
      }
      taken.clear();
      Committed c;
      while ((c = unsynced.poll()) != null) {
        taken.add(c);
      }
      RuntimeException failure = syncFailure;
      if (failure == null) {
        try {
          backend.syncCommitted();
        } catch (RuntimeException e) {
          syncFailure = e;
          failure = e;
        }
      }
      for (Committed batch : taken) {
        settle(batch, failure == null ? null : brokenException(failure));
      }
      unsettled.addAndGet(-taken.size());
      LockSupport.unpark(thread);
    }
  }

  /** Completes a committed batch's callers, and its hook outcome, once synced or failed. */
  private static void settle(Committed batch, RuntimeException syncFailure) {
    if (batch.outcome() != null) {
      try {
        if (syncFailure == null) {
          batch.outcome().synced();
        } else {
          batch.outcome().syncFailed(syncFailure);
        }
      } catch (RuntimeException e) {
        // The hook only releases waiting pollers; its callers' outcome does not depend on it.
      }
    }
    Request[] group = batch.group();
    for (int i = 0; i < group.length; i++) {
      Request q = group[i];
      if (syncFailure != null) {
        q.failure = syncFailure;
      }
      q.wakeGroup = group;
      q.wakeIndex = i;
      q.done = true;
    }
    wake(group, 0);
    wake(group, 1);
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
      Transaction.Work<Void> work =
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
          };
      if (pipelined) {
        backend.inTransactionDeferred(work);
      } else {
        backend.inTransaction(work);
      }
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
    for (Request q : group) {
      q.failure = runCallback(q);
    }
    Committed committed = new Committed(group, o);
    if (!pipelined) {
      settle(committed, null);
      return;
    }
    unsettled.incrementAndGet();
    unsynced.add(committed);
    if (syncerSleeping) {
      LockSupport.unpark(syncer);
    }
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
    q.failure = failure != null ? failure : runCallback(q);
    q.done = true;
    LockSupport.unpark(q.waiter);
  }

  /** Runs {@code q}'s {@code onCommit}; returns what it threw, or null. */
  private static RuntimeException runCallback(Request q) {
    try {
      q.onCommit.run();
      return null;
    } catch (RuntimeException e) {
      return e;
    }
  }
}
