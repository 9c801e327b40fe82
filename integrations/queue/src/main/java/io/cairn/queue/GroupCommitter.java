package io.cairn.queue;

import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.Transaction;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Group commit: concurrent callers' writes share one backend transaction, so N producers or
 * consumers pay for one commit (one fsync at {@code durability = full}) instead of N.
 *
 * <p>Each caller enqueues its request and takes the commit lock. Whoever holds the lock drains
 * every waiting request and commits them in one {@link StorageBackend#inTransaction}; callers whose
 * request was committed by another thread return as soon as they get the lock. Requests' {@code
 * onCommit} callbacks run in submission order, under the commit lock, after the transaction
 * committed, so in-memory state follows the stored state in the same order.
 *
 * <p>If a shared transaction fails and held more than one request, each request is retried alone so
 * that one bad request does not fail the others; a request whose own transaction fails throws that
 * failure to its caller. Thread-safe.
 */
final class GroupCommitter {
  private final StorageBackend backend;
  private final ReentrantLock lock = new ReentrantLock();
  private final ConcurrentLinkedQueue<Request> pending = new ConcurrentLinkedQueue<>();
  private final int maxBatch;

  GroupCommitter(StorageBackend backend, int maxBatch) {
    this.backend = backend;
    this.maxBatch = maxBatch;
  }

  private static final class Request {
    final Consumer<Transaction> write;
    final Runnable onCommit;
    volatile boolean done;
    RuntimeException failure;

    Request(Consumer<Transaction> write, Runnable onCommit) {
      this.write = write;
      this.onCommit = onCommit;
    }
  }

  /**
   * Commits {@code write} (possibly together with other callers' writes), then runs {@code
   * onCommit}. Returns once committed.
   *
   * @throws RuntimeException the transaction's failure; nothing of {@code write} was committed (or,
   *     for a failure while committing, the outcome is that of a crash at that moment)
   */
  void commit(Consumer<Transaction> write, Runnable onCommit) {
    Request r = new Request(write, onCommit);
    pending.add(r);
    lock.lock();
    try {
      while (!r.done) {
        List<Request> batch = new ArrayList<>();
        Request next;
        while (batch.size() < maxBatch && (next = pending.poll()) != null) {
          batch.add(next);
        }
        run(batch);
      }
    } finally {
      lock.unlock();
    }
    if (r.failure != null) {
      throw r.failure;
    }
  }

  private void run(List<Request> batch) {
    try {
      backend.inTransaction(
          tx -> {
            for (Request q : batch) {
              q.write.accept(tx);
            }
            return null;
          });
    } catch (RuntimeException e) {
      if (batch.size() == 1) {
        finish(batch.get(0), e);
      } else {
        for (Request q : batch) {
          run(List.of(q));
        }
      }
      return;
    }
    for (Request q : batch) {
      finish(q, null);
    }
  }

  private static void finish(Request q, RuntimeException failure) {
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
