package io.cairn.queue;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.Transaction;
import io.cairn.queue.MessageIndex.Tracked;
import io.cairn.queue.MessageIndex.Waiter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.WeakHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The byte-level queue: enqueue, poll, settle, group commit and lifecycle. {@link DurableQueue} is
 * its typed face. It drives three parts:
 *
 * <ul>
 *   <li>{@link MessageIndex}: the in-memory index (phases, leases, timers, waiting pollers), no
 *       I/O;
 *   <li>{@link QueueLog}: the stores, the stored layout and commit points, recovery, truncation;
 *   <li>{@link DeadLetters}: the dead-letter store.
 * </ul>
 *
 * <p>Every state change is committed first (through the {@link GroupCommitter}, outside the index
 * lock) and then applied to the index; a failed commit reverts the index. Thread-safe.
 */
final class QueueEngine implements QueueCore {
  private static final Logger log = LoggerFactory.getLogger(QueueEngine.class);
  static final int MAX_PAYLOAD_BYTES = KeyValueStore.MAX_VALUE_BYTES - 64;

  /** Queues open in this process, per backend instance: a second open would corrupt the index. */
  private static final Map<StorageBackend, Set<String>> OPEN = new WeakHashMap<>();

  final QueueSettings settings;
  private final StorageBackend backend;
  private final Clock clock;
  private final QueueLog store;
  private final MessageIndex index;
  private final DeadLetters deadLetters;
  private final GroupCommitter committer;
  private final MetricRegistry metrics;
  private final String metricPrefix;
  private final List<String> metricNames = new ArrayList<>();
  private final Meter enqueuedMeter;
  private final Meter ackedMeter;
  private final Meter nackedMeter;
  private final Meter deadMeter;
  private final Meter redeliveredMeter;
  private final Attachments attachments;

  // ---- leader-local: touched only by the group-commit leader inside one transaction
  /** Messages appended by the current transaction, in offset order (for hand-off to pollers). */
  private final List<Tracked> batchAppends = new ArrayList<>();

  private QueueEngine(
      StorageBackend backend, QueueSettings settings, Clock clock, MetricRegistry m) {
    this.backend = backend;
    this.settings = settings;
    this.attachments = new Attachments(settings.name());
    this.clock = clock;
    this.metrics = m;
    this.metricPrefix = "cairn.queues." + settings.name();
    String batchMetric = metricPrefix + ".commit-batch";
    m.remove(batchMetric);
    this.committer =
        new GroupCommitter(
            backend,
            "queue " + settings.name() + " on " + backend.name(),
            1024,
            m.histogram(batchMetric));
    metricNames.add(batchMetric);
    this.enqueuedMeter = m.meter(metricPrefix + ".enqueued");
    this.ackedMeter = m.meter(metricPrefix + ".acked");
    this.nackedMeter = m.meter(metricPrefix + ".nacked");
    this.deadMeter = m.meter(metricPrefix + ".dead-lettered");
    this.redeliveredMeter = m.meter(metricPrefix + ".redelivered");
    QueueLog s;
    try {
      s = new QueueLog(backend, settings, clock, committer);
    } catch (RuntimeException e) {
      committer.close();
      throw e;
    }
    this.store = s;
    this.index = store.index;
    this.deadLetters = new DeadLetters(store, committer, clock, deadMeter, enqueuedMeter);
    this.committer.setHook(new Handoff());
  }

  /**
   * Opens queue {@code settings.name()} on {@code backend} and recovers it.
   *
   * @throws PersistenceException if it is already open on that backend in this process, or recovery
   *     fails (e.g. {@link StoreCorruptedException})
   */
  static QueueEngine open(
      StorageBackend backend, QueueSettings settings, Clock clock, MetricRegistry metrics) {
    reserve(backend, settings.name());
    QueueEngine engine = null;
    try {
      engine = new QueueEngine(backend, settings, clock, metrics);
      engine.store.recover(engine.deadLetters::count);
      engine.registerGauges();
      return engine;
    } catch (RuntimeException e) {
      if (engine != null) {
        engine.committer.close();
      }
      release(backend, settings.name());
      throw e;
    }
  }

  /**
   * Marks queue {@code name} on {@code backend} as in use in this process (an open engine, or an
   * operator's {@link QueuePurge}), so a second user cannot corrupt the index.
   *
   * @throws PersistenceException if it is in use already
   */
  static void reserve(StorageBackend backend, String name) {
    synchronized (OPEN) {
      Set<String> names = OPEN.computeIfAbsent(backend, b -> new HashSet<>());
      if (!names.add(name)) {
        throw new PersistenceException(
            "Queue '"
                + name
                + "' is already open on backend '"
                + backend.name()
                + "' in this process; share that instance (DurableQueues.queue(name)) or close it"
                + " first.");
      }
    }
  }

  static void release(StorageBackend backend, String name) {
    synchronized (OPEN) {
      Set<String> names = OPEN.get(backend);
      if (names != null) {
        names.remove(name);
      }
    }
  }

  @Override
  public String name() {
    return settings.name();
  }

  @Override
  public String backendName() {
    return backend.name();
  }

  private void registerGauges() {
    gauge("depth", () -> stats().depth());
    gauge("in-flight", () -> stats().inFlight());
    gauge("dead-letters", () -> stats().deadLetters());
    gauge("oldest-age-ms", index::oldestAgeMillis);
  }

  private void gauge(String suffix, Gauge<Long> g) {
    String n = metricPrefix + "." + suffix;
    metrics.remove(n);
    metrics.register(n, g);
    metricNames.add(n);
  }

  // ------------------------------------------------------------------ enqueue

  @Override
  public List<Long> enqueue(List<byte[]> payloads) {
    long first = enqueueAll(payloads);
    List<Long> ids = new ArrayList<>(payloads.size());
    for (int i = 0; i < payloads.size(); i++) {
      ids.add(first + i);
    }
    return ids;
  }

  /** Appends the payloads as one atomic group and returns the first id (ids are consecutive). */
  long enqueueAll(List<byte[]> payloads) {
    Objects.requireNonNull(payloads, "payloads");
    int n = payloads.size();
    List<byte[]> records = new ArrayList<>(n);
    long now = clock.millis();
    for (byte[] p : payloads) {
      Objects.requireNonNull(p, "payload");
      if (p.length > MAX_PAYLOAD_BYTES) {
        throw new IllegalArgumentException(
            "Payload of "
                + p.length
                + " bytes exceeds the queue limit of "
                + MAX_PAYLOAD_BYTES
                + " bytes; nothing was enqueued to queue '"
                + name()
                + "'");
      }
      records.add(Records.message(now, p));
    }
    index.ensureOpen();
    if (records.isEmpty()) {
      return index.knownEnd();
    }
    long[] first = new long[1];
    Tracked[] appended = new Tracked[n];
    committer.commit(
        n,
        tx -> {
          first[0] = store.append(tx, records);
          for (int i = 0; i < n; i++) {
            // The delivered payload is a private copy: the caller may reuse its array.
            Tracked t = Tracked.appended(first[0] + i, now, payloads.get(i).clone());
            appended[i] = t;
            batchAppends.add(t);
          }
        },
        () -> index.appended(first[0], appended));
    enqueuedMeter.mark(n);
    return first[0];
  }

  // ------------------------------------------------------------------ poll

  /**
   * Up to {@code max} deliveries, waiting up to {@code timeout} for the first.
   *
   * <p>A poller that finds nothing registers as a {@link Waiter}. Every group commit then leases
   * messages to the waiting pollers inside the same transaction ({@link Handoff}), including the
   * messages that transaction enqueues, so a message enqueued while a consumer waits costs one
   * commit for enqueue and lease together. The poller also wakes for due redeliveries, for messages
   * it must read from the log, and at its deadline.
   */
  @Override
  public List<Delivery<byte[]>> poll(int max, Duration timeout) {
    if (max <= 0) {
      throw new IllegalArgumentException("max must be positive, got " + max);
    }
    Objects.requireNonNull(timeout, "timeout");
    long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
    while (true) {
      List<Tracked> picks = new ArrayList<>();
      List<Tracked> deads = new ArrayList<>();
      Waiter served = index.pollStep(max, deadline, picks, deads);
      if (served != null) {
        if (!served.isDone()) {
          continue; // woken because something is available to take
        }
        return deliveries(served.picks, served.leaseUntil);
      }
      if (picks.isEmpty() && deads.isEmpty()) {
        return List.of();
      }
      deadLetters.deadLetterExpired(deads);
      if (!picks.isEmpty()) {
        return deliver(picks);
      }
    }
  }

  /**
   * The group-commit hook that leases messages to waiting pollers in the commit that is being made
   * anyway ({@link MessageIndex#assignWaiters}). The choice is made under the index lock before the
   * transaction starts; inside the transaction only leader-local state is used, because a reader
   * holding the index lock may be waiting for the backend.
   */
  private final class Handoff implements GroupCommitter.BatchHook {
    @Override
    public void begin() {
      batchAppends.clear();
    }

    @Override
    public GroupCommitter.Outcome prepare(int appends) {
      MessageIndex.Assignment a = index.assignWaiters(appends);
      if (a == null) {
        return null;
      }
      return new GroupCommitter.Outcome() {
        @Override
        public void write(Transaction tx) {
          // Leader-local: only batchAppends and the assigned waiters' pick lists.
          int i = 0;
          for (int k = 0; k < a.served.size(); k++) {
            Waiter w = a.served.get(k);
            for (int j = 0; j < a.fromBatch.get(k); j++, i++) {
              if (i >= batchAppends.size() || batchAppends.get(i).offset != a.appendStart + i) {
                break; // another append (redrive) came between: leave the rest in the log
              }
              Tracked t = batchAppends.get(i);
              t.phase = MessageIndex.Phase.BUSY;
              w.picks.add(t);
              a.handedFromBatch = i + 1;
            }
            store.writeLeases(tx, w.picks, a.leaseUntil);
          }
        }

        @Override
        public void committed() {
          index.handoffCommitted(a);
        }

        @Override
        public void failed(RuntimeException e) {
          index.handoffFailed(a);
        }
      };
    }
  }

  private List<Delivery<byte[]>> deliveries(List<Tracked> picks, long leaseUntil) {
    List<Delivery<byte[]>> out = new ArrayList<>(picks.size());
    Instant deadline = Instant.ofEpochMilli(leaseUntil);
    int redeliveries = 0;
    for (Tracked t : picks) {
      if (t.attempts > 1) {
        redeliveries++;
      }
      out.add(
          new Delivery<>(
              t.offset, t.payload, t.attempts, Instant.ofEpochMilli(t.enqueuedAt), deadline));
    }
    if (redeliveries > 0) {
      redeliveredMeter.mark(redeliveries);
    }
    return out;
  }

  private List<Delivery<byte[]>> deliver(List<Tracked> picks) {
    try {
      store.loadPayloads(picks);
    } catch (RuntimeException e) {
      index.revert(picks, clock.millis());
      throw e;
    }
    long now = clock.millis();
    long leaseUntil = MessageIndex.saturatedAdd(now, settings.visibilityTimeout().toMillis());
    try {
      committer.commit(
          tx -> store.writeLeases(tx, picks, leaseUntil), () -> index.leased(picks, leaseUntil));
    } catch (RuntimeException e) {
      index.revert(picks, now);
      throw e;
    }
    return deliveries(picks, leaseUntil);
  }

  // ------------------------------------------------------------------ settle

  /** The lease token of this engine is the attempt number; no lease ever had a larger one. */
  private static int attempt(long token) {
    return token < 0 || token > Integer.MAX_VALUE ? -1 : (int) token;
  }

  @Override
  public boolean ack(long id, long token) {
    Tracked t = index.claim(id, attempt(token));
    if (t == null) {
      return false;
    }
    ackClaimed(t);
    return true;
  }

  /** Acks a message claimed with {@link MessageIndex#claim}; unclaims it if the commit fails. */
  private void ackClaimed(Tracked t) {
    boolean[] truncationDue = new boolean[1];
    try {
      committer.commit(tx -> store.writeAck(tx, t), () -> truncationDue[0] = index.acked(t));
    } catch (RuntimeException e) {
      index.unclaim(t);
      throw e;
    }
    ackedMeter.mark();
    if (truncationDue[0]) {
      store.maybeTruncate(false);
    }
  }

  /**
   * Acks delivery ({@code id}, {@code attempt}) and leases up to {@code max} next messages in the
   * same commit; if none is available at once, acks alone and then polls as {@link #poll}. If the
   * lease of the acked delivery was lost, nothing is acked and this only polls.
   */
  @Override
  public List<Delivery<byte[]>> ackAndPoll(long id, long token, int max, Duration timeout) {
    if (max <= 0) {
      throw new IllegalArgumentException("max must be positive, got " + max);
    }
    Objects.requireNonNull(timeout, "timeout");
    Tracked done = index.claim(id, attempt(token));
    if (done == null) {
      return poll(max, timeout);
    }
    List<Tracked> picks = new ArrayList<>();
    List<Tracked> deads = new ArrayList<>();
    try {
      index.takeOrRevert(max, picks, deads);
    } catch (RuntimeException e) {
      index.unclaim(done);
      throw e;
    }
    deadLetters.deadLetterExpired(deads);
    if (picks.isEmpty()) {
      ackClaimed(done);
      return poll(max, timeout);
    }
    try {
      store.loadPayloads(picks);
    } catch (RuntimeException e) {
      index.revert(picks, clock.millis());
      ackClaimed(done);
      throw e;
    }
    long now = clock.millis();
    long leaseUntil = MessageIndex.saturatedAdd(now, settings.visibilityTimeout().toMillis());
    boolean[] truncationDue = new boolean[1];
    try {
      committer.commit(
          tx -> {
            store.writeAck(tx, done);
            store.writeLeases(tx, picks, leaseUntil);
          },
          () -> truncationDue[0] = index.ackedAndLeased(done, picks, leaseUntil));
    } catch (RuntimeException e) {
      index.unclaim(done);
      index.revert(picks, now);
      throw e;
    }
    ackedMeter.mark();
    if (truncationDue[0]) {
      store.maybeTruncate(false);
    }
    return deliveries(picks, leaseUntil);
  }

  /** Nacks; {@code delay} null means the default backoff. Dead-letters at max-attempts. */
  @Override
  public boolean nack(long id, long token, int attempt, Duration delay) {
    // The index knows the attempt count: {@code attempt} only matters to the shared engine.
    if (delay != null && delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, got " + delay);
    }
    Tracked t = index.claim(id, attempt(token));
    if (t == null) {
      return false;
    }
    if (t.attempts >= settings.maxAttempts()) {
      try {
        deadLetters.commitDead(List.of(t), "max-attempts reached (nack)", false);
      } catch (RuntimeException e) {
        index.unclaim(t);
        throw e;
      }
      nackedMeter.mark();
      return true;
    }
    Duration d = delay != null ? delay : settings.backoff(t.attempts);
    long visibleAt = MessageIndex.saturatedAdd(clock.millis(), d.toMillis());
    try {
      committer.commit(tx -> store.writeReady(tx, t, visibleAt), () -> index.delayed(t, visibleAt));
    } catch (RuntimeException e) {
      index.unclaim(t);
      throw e;
    }
    nackedMeter.mark();
    return true;
  }

  @Override
  public boolean deadLetter(long id, long token, String reason) {
    Objects.requireNonNull(reason, "reason");
    Tracked t = index.claim(id, attempt(token));
    if (t == null) {
      return false;
    }
    try {
      deadLetters.commitDead(List.of(t), reason, false);
    } catch (RuntimeException e) {
      index.unclaim(t);
      throw e;
    }
    return true;
  }

  // ------------------------------------------------------------------ dead letters

  @Override
  public List<DeadLetter<byte[]>> deadLetters(long fromId, int max) {
    return deadLetters.list(fromId, max);
  }

  /** Moves the given dead letters back to the queue as new messages; returns how many moved. */
  @Override
  public int redrive(Collection<Long> ids) {
    return deadLetters.redrive(ids);
  }

  /** Redrives every dead letter, in batches; returns how many moved. */
  @Override
  public long redriveAll() {
    return deadLetters.redriveAll();
  }

  /** See {@link QueueLog#maybeTruncate}. */
  @Override
  public long maybeTruncate(boolean force) {
    return store.maybeTruncate(force);
  }

  // ------------------------------------------------------------------ stats

  @Override
  public QueueStats stats() {
    MessageIndex.Counts c = index.counts();
    return new QueueStats(
        c.depth(),
        c.inFlight(),
        c.deadLetters(),
        c.oldestAgeMillis(),
        enqueuedMeter.getCount(),
        ackedMeter.getCount(),
        nackedMeter.getCount(),
        deadMeter.getCount(),
        redeliveredMeter.getCount());
  }

  long oldestAgeMillis() {
    return index.oldestAgeMillis();
  }

  // ------------------------------------------------------------------ lifecycle

  @Override
  public void addWorkers(AutoCloseable w) {
    attachments.addWorkers(w, index::ensureOpen);
  }

  @Override
  public void removeWorkers(AutoCloseable w) {
    attachments.removeWorkers(w);
  }

  @Override
  public boolean isClosed() {
    return index.isClosed();
  }

  @Override
  public void onClose(Runnable hook) {
    attachments.onClose(hook);
  }

  /**
   * Stops consumer helpers, stores the floor (best effort), wakes waiting pollers and releases the
   * name. Leases held by callers stay in the store: those messages are redelivered after their
   * lease runs out, in this or a later process. Idempotent.
   */
  @Override
  public void close() {
    List<Runnable> hooks = attachments.detachAndStopWorkers(index::isClosed);
    if (hooks == null) {
      return;
    }
    try {
      store.maybeTruncate(true);
    } catch (RuntimeException e) {
      log.debug("Queue '{}': final truncation skipped: {}", name(), e.toString());
    }
    index.close();
    committer.close();
    for (String n : metricNames) {
      metrics.remove(n);
    }
    release(backend, name());
    hooks.forEach(Runnable::run);
  }
}
