package io.cairn.queue;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import io.cairn.persistence.ClosedException;
import io.cairn.persistence.LeasedQueueStore;
import io.cairn.persistence.LeasedQueueStore.Lease;
import io.cairn.persistence.StorageBackend;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A queue shared by any number of processes on one networked backend: every operation is one call
 * of the backend's {@link LeasedQueueStore}, which keeps the messages, leases them under row locks
 * of the database server and times them by the server's clock. Nothing about the queue is kept in
 * this process except metrics, so any number of instances (and several in one process) may open the
 * same queue.
 *
 * <p>Differences from the one-process engine ({@link QueueEngine}), also documented on {@link
 * DurableQueue}:
 *
 * <ul>
 *   <li>{@link #poll} asks the server and, if nothing is due, asks again after a short pause that
 *       grows from 5 ms to {@link #MAX_POLL_PAUSE} until the timeout: an enqueue by another
 *       instance is seen within that pause, not handed off in the enqueue's commit.
 *   <li>{@link #ackAndPoll} is an ack followed by a poll: two commits, not one.
 *   <li>Ids are unique and increasing per call but not consecutive across concurrent producers;
 *       redeliveries are ordered with first deliveries by the time they became due.
 *   <li>An acked message's row is deleted in the ack: {@link #maybeTruncate} has nothing to do and
 *       returns 0.
 *   <li>Times in {@link Delivery} and {@link DeadLetter} are the database server's, and leases run
 *       out by the server's clock, not the registry's (consumers on many machines must agree).
 *   <li>{@link #stats()}'s counts are the whole queue's (all instances); the meters count this
 *       instance's operations.
 * </ul>
 *
 * <p>Thread-safe.
 */
final class SharedQueueEngine implements QueueCore {
  private static final Logger log = LoggerFactory.getLogger(SharedQueueEngine.class);

  /** Longest pause between two lease attempts of a waiting {@link #poll}. */
  static final Duration MAX_POLL_PAUSE = Duration.ofMillis(100);

  private static final int REDRIVE_BATCH = 1000;

  private final QueueSettings settings;
  private final String backendName;
  private final LeasedQueueStore store;
  private final MetricRegistry metrics;
  private final String metricPrefix;
  private final List<String> metricNames = new ArrayList<>();
  private final Meter enqueuedMeter;
  private final Meter ackedMeter;
  private final Meter nackedMeter;
  private final Meter deadMeter;
  private final Meter redeliveredMeter;
  private final Attachments attachments;
  private volatile boolean closed;

  SharedQueueEngine(
      StorageBackend backend, LeasedQueueStore store, QueueSettings settings, MetricRegistry m) {
    this.settings = settings;
    this.attachments = new Attachments(settings.name());
    this.backendName = backend.name();
    this.store = Objects.requireNonNull(store, "store");
    this.metrics = m;
    this.metricPrefix = "cairn.queues." + settings.name();
    this.enqueuedMeter = m.meter(metricPrefix + ".enqueued");
    this.ackedMeter = m.meter(metricPrefix + ".acked");
    this.nackedMeter = m.meter(metricPrefix + ".nacked");
    this.deadMeter = m.meter(metricPrefix + ".dead-lettered");
    this.redeliveredMeter = m.meter(metricPrefix + ".redelivered");
    gauge("depth", () -> stats().depth());
    gauge("in-flight", () -> stats().inFlight());
    gauge("dead-letters", () -> stats().deadLetters());
    gauge("oldest-age-ms", () -> stats().oldestAgeMillis());
  }

  private void gauge(String suffix, Gauge<Long> g) {
    String n = metricPrefix + "." + suffix;
    metrics.remove(n);
    metrics.register(n, g);
    metricNames.add(n);
  }

  @Override
  public String name() {
    return settings.name();
  }

  @Override
  public String backendName() {
    return backendName;
  }

  private void ensureOpen() {
    if (closed) {
      throw new ClosedException(
          "queue '" + name() + "' on backend '" + backendName + "'",
          "open the queue again (DurableQueue.open or a new registry)");
    }
  }

  // ------------------------------------------------------------------ enqueue

  @Override
  public List<Long> enqueue(List<byte[]> payloads) {
    Objects.requireNonNull(payloads, "payloads");
    List<byte[]> copies = new ArrayList<>(payloads.size());
    for (byte[] p : payloads) {
      Objects.requireNonNull(p, "payload");
      if (p.length > QueueEngine.MAX_PAYLOAD_BYTES) {
        throw new IllegalArgumentException(
            "Payload of "
                + p.length
                + " bytes exceeds the queue limit of "
                + QueueEngine.MAX_PAYLOAD_BYTES
                + " bytes; nothing was enqueued to queue '"
                + name()
                + "'");
      }
      copies.add(p);
    }
    ensureOpen();
    List<Long> ids = store.enqueueAll(name(), copies);
    enqueuedMeter.mark(ids.size());
    return ids;
  }

  // ------------------------------------------------------------------ poll

  @Override
  public List<Delivery<byte[]>> poll(int max, Duration timeout) {
    if (max <= 0) {
      throw new IllegalArgumentException("max must be positive, got " + max);
    }
    Objects.requireNonNull(timeout, "timeout");
    long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
    long pauseMillis = 5;
    while (true) {
      ensureOpen();
      List<Delivery<byte[]>> got = leaseNow(max);
      if (!got.isEmpty()) {
        return got;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return List.of();
      }
      try {
        TimeUnit.NANOSECONDS.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(pauseMillis)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return List.of();
      }
      pauseMillis = Math.min(pauseMillis * 2, MAX_POLL_PAUSE.toMillis());
    }
  }

  private List<Delivery<byte[]>> leaseNow(int max) {
    LeasedQueueStore.LeaseBatch batch =
        store.lease(name(), max, settings.visibilityTimeout(), settings.maxAttempts());
    if (batch.deadLettered() > 0) {
      deadMeter.mark(batch.deadLettered());
    }
    List<Delivery<byte[]>> out = new ArrayList<>(batch.leases().size());
    int redeliveries = 0;
    for (Lease l : batch.leases()) {
      if (l.attempt() > 1) {
        redeliveries++;
      }
      out.add(
          new Delivery<>(
              l.id(), l.payload(), l.attempt(), l.token(), l.enqueuedAt(), l.deadline()));
    }
    if (redeliveries > 0) {
      redeliveredMeter.mark(redeliveries);
    }
    return out;
  }

  // ------------------------------------------------------------------ settle

  @Override
  public boolean ack(long id, long token) {
    ensureOpen();
    boolean ok = store.ack(name(), id, token);
    if (ok) {
      ackedMeter.mark();
    }
    return ok;
  }

  @Override
  public List<Delivery<byte[]>> ackAndPoll(long id, long token, int max, Duration timeout) {
    if (max <= 0) {
      throw new IllegalArgumentException("max must be positive, got " + max);
    }
    Objects.requireNonNull(timeout, "timeout");
    ack(id, token);
    return poll(max, timeout);
  }

  @Override
  public boolean nack(long id, long token, int attempt, Duration delay) {
    if (delay != null && delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, got " + delay);
    }
    ensureOpen();
    boolean ok;
    if (attempt >= settings.maxAttempts()) {
      ok = store.deadLetter(name(), id, token, "max-attempts reached (nack)");
      if (ok) {
        deadMeter.mark();
      }
    } else {
      Duration d = delay != null ? delay : settings.backoff(attempt);
      ok = store.nack(name(), id, token, d);
    }
    if (ok) {
      nackedMeter.mark();
    }
    return ok;
  }

  @Override
  public boolean deadLetter(long id, long token, String reason) {
    Objects.requireNonNull(reason, "reason");
    ensureOpen();
    boolean ok = store.deadLetter(name(), id, token, reason);
    if (ok) {
      deadMeter.mark();
    }
    return ok;
  }

  // ------------------------------------------------------------------ dead letters

  @Override
  public List<DeadLetter<byte[]>> deadLetters(long fromId, int max) {
    ensureOpen();
    List<DeadLetter<byte[]>> out = new ArrayList<>();
    for (LeasedQueueStore.DeadMessage d : store.deadLetters(name(), fromId, max)) {
      out.add(
          new DeadLetter<>(
              d.id(), d.payload(), d.attempts(), d.enqueuedAt(), d.deadAt(), d.reason()));
    }
    return out;
  }

  @Override
  public int redrive(Collection<Long> ids) {
    ensureOpen();
    int n = store.redrive(name(), ids);
    enqueuedMeter.mark(n);
    return n;
  }

  @Override
  public long redriveAll() {
    long total = 0;
    while (true) {
      ensureOpen();
      List<Long> ids = new ArrayList<>();
      for (LeasedQueueStore.DeadMessage d : store.deadLetters(name(), 0, REDRIVE_BATCH)) {
        ids.add(d.id());
      }
      if (ids.isEmpty()) {
        return total;
      }
      total += redrive(ids);
    }
  }

  /** Acked rows are deleted by the ack itself: nothing to truncate. */
  @Override
  public long maybeTruncate(boolean force) {
    ensureOpen();
    return 0;
  }

  @Override
  public QueueStats stats() {
    ensureOpen();
    LeasedQueueStore.Counts c = store.counts(name());
    return new QueueStats(
        c.ready() + c.delayed(),
        c.leased(),
        c.dead(),
        c.oldestAgeMillis(),
        enqueuedMeter.getCount(),
        ackedMeter.getCount(),
        nackedMeter.getCount(),
        deadMeter.getCount(),
        redeliveredMeter.getCount());
  }

  // ------------------------------------------------------------------ lifecycle

  @Override
  public void addWorkers(AutoCloseable w) {
    attachments.addWorkers(w, this::ensureOpen);
  }

  @Override
  public void removeWorkers(AutoCloseable w) {
    attachments.removeWorkers(w);
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  @Override
  public void onClose(Runnable hook) {
    attachments.onClose(hook);
  }

  /**
   * Stops this instance's consumer helpers and unregisters its metrics. Leases held by callers stay
   * on the server: those messages are redelivered, to any instance, once their lease runs out.
   * Idempotent.
   */
  @Override
  public void close() {
    List<Runnable> hooks = attachments.detachAndStopWorkers(() -> closed);
    if (hooks == null) {
      return;
    }
    closed = true;
    for (String n : metricNames) {
      metrics.remove(n);
    }
    hooks.forEach(Runnable::run);
  }
}
