package io.cairn.queue;

import io.cairn.persistence.ClosedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Worker threads consuming one queue, started by {@link DurableQueue#consume}. Each thread polls,
 * runs the {@link MessageHandler} and acks (normal return) or nacks (exception); an ack takes the
 * next message in the same commit ({@link DurableQueue#ackAndPoll}). A storage failure while
 * polling or settling is logged and retried after a pause; it does not stop the workers.
 *
 * <p>{@link #close()} stops polling, waits up to 30 seconds for running handlers to finish, then
 * interrupts the threads that are still running; a message whose handler did not finish is neither
 * acked nor nacked, so it is redelivered when its lease runs out. Thread-safe; idempotent close.
 */
public final class QueueWorkers implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(QueueWorkers.class);
  private static final Duration POLL_SLICE = Duration.ofMillis(200);
  private static final long CLOSE_GRACE_MILLIS = 30_000;

  private final QueueCore engine;
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicBoolean running = new AtomicBoolean(true);

  <T> QueueWorkers(QueueCore engine, DurableQueue<T> queue, int workers, MessageHandler<T> h) {
    if (workers <= 0) {
      throw new IllegalArgumentException("workers must be positive, got " + workers);
    }
    Objects.requireNonNull(h, "handler");
    this.engine = engine;
    engine.addWorkers(this);
    for (int i = 0; i < workers; i++) {
      Thread t = new Thread(() -> run(queue, h), "cairn-queue-" + queue.name() + "-" + i);
      t.setDaemon(true);
      threads.add(t);
    }
    threads.forEach(Thread::start);
  }

  private <T> void run(DurableQueue<T> queue, MessageHandler<T> handler) {
    Delivery<T> leased = null; // taken together with the previous ack, not yet handled
    while (running.get() || leased != null) {
      Delivery<T> d;
      try {
        Optional<Delivery<T>> next = leased != null ? Optional.of(leased) : queue.poll(POLL_SLICE);
        leased = null;
        if (next.isEmpty()) {
          if (Thread.currentThread().isInterrupted()) {
            return;
          }
          continue;
        }
        d = next.get();
      } catch (ClosedException e) {
        return;
      } catch (RuntimeException e) {
        log.warn("Queue '{}': poll failed; retrying in 1s: {}", queue.name(), e.toString());
        pause();
        continue;
      }
      boolean ok;
      try {
        handler.handle(d);
        ok = true;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        log.debug("Queue '{}': handler failed for {}: {}", queue.name(), d, e.toString());
        ok = false;
      }
      try {
        if (ok && running.get()) {
          // One commit for this ack and the next lease when a message is waiting.
          leased = queue.ackAndPoll(d, POLL_SLICE).orElse(null);
        } else if (ok) {
          queue.ack(d);
        } else {
          queue.nack(d);
        }
      } catch (ClosedException e) {
        return;
      } catch (RuntimeException e) {
        log.warn(
            "Queue '{}': settling {} failed; it will be redelivered after its lease: {}",
            queue.name(),
            d,
            e.toString());
        pause();
      }
    }
  }

  private void pause() {
    try {
      TimeUnit.SECONDS.sleep(1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      running.set(false);
    }
  }

  /** Number of worker threads still alive. */
  public int aliveWorkers() {
    int n = 0;
    for (Thread t : threads) {
      if (t.isAlive()) {
        n++;
      }
    }
    return n;
  }

  /** Stops the workers as described in the class documentation. Idempotent. */
  @Override
  public void close() {
    running.set(false);
    long deadline = System.currentTimeMillis() + CLOSE_GRACE_MILLIS;
    for (Thread t : threads) {
      if (t == Thread.currentThread()) {
        continue;
      }
      try {
        t.join(Math.max(1, deadline - System.currentTimeMillis()));
        if (t.isAlive()) {
          log.warn("Queue worker {} still running after 30s; interrupting it", t.getName());
          t.interrupt();
          t.join(5_000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    engine.removeWorkers(this);
  }
}
