package io.cairn.queue;

import com.codahale.metrics.MetricRegistry;
import io.cairn.persistence.Capability;
import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.LeasedQueueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.Settings;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A durable work queue on one backend: a log of messages plus per-message delivery state (see
 * {@link QueueLog} for the stored layout and recovery rules). Configured under {@code
 * cairn.queues.<name>}.
 *
 * <h2>Semantics</h2>
 *
 * <ul>
 *   <li><b>Durability.</b> {@link #enqueue} returns once the message is as durable as the backend's
 *       {@code durability} promises. Concurrent producers share commits (group commit), so one
 *       fsync serves many enqueues at {@code durability = full}. The same holds for deliveries,
 *       acks and nacks, and all of them share the same commits. A consumer waiting in {@link #poll}
 *       is leased a newly enqueued message in the enqueue's own commit; {@link #ackAndPoll} stores
 *       an ack and the next lease in one commit.
 *   <li><b>At-least-once.</b> {@link #poll} hands out a {@link Delivery} under a lease of {@code
 *       visibility-timeout}. A message is delivered again if its lease runs out before {@link #ack}
 *       (the consumer died or was too slow), after {@link #nack}, and after a crash once its lease
 *       has run out. Handlers must therefore be idempotent.
 *   <li><b>Order.</b> First deliveries are handed out in enqueue order. Redeliveries are handed out
 *       when due, before first deliveries.
 *   <li><b>Ack is final.</b> A message that was acked is never delivered again, across restarts and
 *       crashes. An ack, nack or dead-letter with a delivery whose lease was lost (the message has
 *       been delivered again since) does nothing and returns {@code false}. Settling after the
 *       lease ran out still works as long as the message has not been delivered again.
 *   <li><b>Attempts.</b> The attempt count is stored before the delivery is handed out and survives
 *       crashes. A nack or expired lease of delivery number {@code max-attempts} moves the message
 *       to the dead-letter store, which is listed with {@link #deadLetters} and emptied with {@link
 *       #redrive}.
 *   <li><b>Disk use.</b> Once the messages at the head are finished (acked or dead-lettered), their
 *       log records are truncated, so disk use follows the backlog rather than the history.
 *   <li><b>Clock.</b> Leases, delays and timestamps use the registry's clock.
 * </ul>
 *
 * <h2>Queues shared by several processes</h2>
 *
 * On a backend that offers {@link LeasedQueueStore} (PostgreSQL), the queue is shared by every
 * process that opens it on the same database: the server leases messages (row locks, {@code SKIP
 * LOCKED}), so a message is leased to one consumer at a time across all instances, and the leases
 * of an instance that dies are redelivered to the others once they run out. The semantics above
 * hold with these differences: leases, delays and the times in {@link Delivery} and {@link
 * DeadLetter} are the <b>database server's</b> clock, not the registry's (instances on many
 * machines must agree on when a lease runs out); a waiting {@link #poll} sees messages by asking
 * the server again every few milliseconds (at most 100 ms apart) rather than in the enqueue's
 * commit; {@link #ackAndPoll} is two commits; ids of concurrent producers interleave, so {@link
 * #enqueueAll}'s ids are increasing but not consecutive; redeliveries are ordered with first
 * deliveries by the time they became due; {@link #truncateFinished} returns 0 (an ack deletes its
 * row); {@link #stats()}'s counts are the whole queue's while its meters are this instance's; and
 * the same queue may be opened more than once in one process. While the database server is
 * unreachable, every method throws the backend's retriable "unavailable" exception (a {@link
 * io.cairn.persistence.StorageEngineException}, PostgreSQL: {@code PostgresUnavailableException})
 * and the queue resumes by itself once it is back.
 *
 * <p>A queue is refused (with a {@link ConfigurationException} naming what is missing) on a backend
 * that declares {@link Capability#MULTI_PROCESS} without offering {@link LeasedQueueStore}: the
 * one-process engine would run a separate index in each process.
 *
 * <p>Thread-safe. Metrics are published under {@code cairn.queues.<name>}: gauges {@code depth},
 * {@code in-flight}, {@code dead-letters}, {@code oldest-age-ms}; meters {@code enqueued}, {@code
 * acked}, {@code nacked}, {@code dead-lettered}, {@code redelivered}; histogram {@code
 * commit-batch} (state changes per group commit). Storage failures throw {@link
 * io.cairn.persistence.PersistenceException} subclasses; nothing is half-applied.
 *
 * @param <T> payload type
 */
public final class DurableQueue<T> implements AutoCloseable {
  private final QueueCore engine;
  private final Codec<T> codec;
  private final boolean ownsEngine;

  DurableQueue(QueueCore engine, Codec<T> codec, boolean ownsEngine) {
    this.engine = engine;
    this.codec = Objects.requireNonNull(codec, "codec");
    this.ownsEngine = ownsEngine;
  }

  /**
   * Opens queue {@code name} as configured under {@code cairn.queues.<name>} (over {@code
   * cairn.queue-defaults}) of the registry's configuration, and recovers it. The caller owns the
   * queue and must {@link #close()} it before closing the registry. To have queues opened and
   * closed with the registry instead, register {@link DurableQueues} as a listener.
   *
   * @throws ConfigurationException if the queue is not configured or its settings are invalid
   *     (every problem, with path and file:line)
   * @throws io.cairn.persistence.PersistenceException if the queue is already open on that backend
   *     in this process (one-process engine only), or recovery fails
   * @throws ConfigurationException also if the backend is shared by several processes ({@link
   *     Capability#MULTI_PROCESS}) but offers no {@link LeasedQueueStore}
   */
  public static <T> DurableQueue<T> open(
      PersistenceRegistry registry, String name, Codec<T> codec) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(codec, "codec");
    return new DurableQueue<>(openEngine(registry, name), codec, true);
  }

  /** As {@link #open(PersistenceRegistry, String, Codec)} with raw byte payloads. */
  public static DurableQueue<byte[]> openRaw(PersistenceRegistry registry, String name) {
    return open(registry, name, Codec.bytes());
  }

  static QueueCore openEngine(PersistenceRegistry registry, String name) {
    Objects.requireNonNull(name, "name");
    List<ConfigProblem> problems = new ArrayList<>();
    QueueSettings s = QueueSettings.read(registry.config(), name, problems);
    Settings.throwIfAny(problems);
    QueueCore engine =
        openEngine(registry.backend(s.backend()), s, registry.clock(), registry.metrics());
    QueueHealth.register(registry.healthChecks(), engine);
    return engine;
  }

  /**
   * Chooses the engine for {@code backend}: the shared engine on a backend that offers {@link
   * LeasedQueueStore}; the one-process engine on a backend whose stores only one process opens; and
   * a refusal on a backend that several processes share ({@link Capability#MULTI_PROCESS}) but that
   * offers no server-side leases, because every process would then keep its own index of the same
   * log and hand the same message to a consumer in each.
   */
  static QueueCore openEngine(
      StorageBackend backend, QueueSettings s, Clock clock, MetricRegistry metrics) {
    Optional<LeasedQueueStore> leased = backend.extension(LeasedQueueStore.class);
    if (leased.isPresent()) {
      return new SharedQueueEngine(backend, leased.get(), s, metrics);
    }
    if (backend.capabilities().contains(Capability.MULTI_PROCESS)) {
      throw new ConfigurationException(
          "Queue '"
              + s.name()
              + "' cannot be opened on backend '"
              + backend.name()
              + "' (type "
              + backend.type()
              + "): the backend declares MULTI_PROCESS (several processes may open its stores at"
              + " once) but offers no "
              + LeasedQueueStore.class.getName()
              + " extension, and the queue's one-process index over a shared log would deliver"
              + " each message to a consumer in every process. Put the queue on a backend that"
              + " offers the extension (type postgres) or on one that only one process opens"
              + " (sqlite, rocksdb, memory): cairn.queues."
              + s.name()
              + ".backend.");
    }
    return QueueEngine.open(backend, s, clock, metrics);
  }

  /** The queue's name. */
  public String name() {
    return engine.name();
  }

  /** Name of the backend that stores the queue. */
  public String backendName() {
    return engine.backendName();
  }

  /**
   * Enqueues one message and returns its id once it is durable.
   *
   * @throws IllegalArgumentException if the encoded payload is larger than 64 MiB minus a header
   */
  public long enqueue(T message) {
    return engine.enqueue(List.of(codec.encode(Objects.requireNonNull(message, "message")))).get(0);
  }

  /**
   * Enqueues the messages atomically (all or none) with consecutive ids (increasing, not
   * necessarily consecutive, in a shared queue), and returns the ids in order once they are
   * durable.
   */
  public List<Long> enqueueAll(Collection<? extends T> messages) {
    Objects.requireNonNull(messages, "messages");
    List<byte[]> payloads = new ArrayList<>(messages.size());
    for (T m : messages) {
      payloads.add(codec.encode(Objects.requireNonNull(m, "message")));
    }
    return engine.enqueue(payloads);
  }

  /**
   * The next message under a lease, waiting up to {@code timeout} (zero: do not wait). Empty if
   * none became available in time, or if the calling thread was interrupted while waiting (its
   * interrupt flag is then set; a message whose lease a commit was already storing for this caller
   * is still returned, as a commit is not interruptible).
   *
   * @throws io.cairn.persistence.ClosedException if the queue is closed
   */
  public Optional<Delivery<T>> poll(Duration timeout) {
    List<Delivery<T>> one = poll(1, timeout);
    return one.isEmpty() ? Optional.empty() : Optional.of(one.get(0));
  }

  /**
   * Up to {@code max} messages, each under a lease; waits up to {@code timeout} for the first and
   * returns what is available then (all leases are stored in one commit).
   */
  public List<Delivery<T>> poll(int max, Duration timeout) {
    List<Delivery<byte[]>> raw = engine.poll(max, timeout);
    List<Delivery<T>> out = new ArrayList<>(raw.size());
    for (Delivery<byte[]> d : raw) {
      out.add(d.withPayload(codec.decode(d.payload())));
    }
    return out;
  }

  /**
   * Finishes the message for good. Returns {@code true} exactly once per message: for the one
   * delivery that finished it. Returns {@code false} and changes nothing if this delivery's lease
   * was lost because the message was delivered again, if the message was already acked (a second
   * ack of the same delivery returns {@code false}, also after a restart), or if it was nacked or
   * dead-lettered. A {@code false} therefore means "someone else owns or finished this message": do
   * not treat the work as lost, and do not retry the ack.
   */
  public boolean ack(Delivery<T> delivery) {
    return engine.ack(delivery.id(), delivery.token());
  }

  /**
   * Acks {@code done} and takes the next message, storing the ack and the next lease in one commit
   * when a message is available at once; otherwise the ack commits alone and this waits up to
   * {@code timeout} like {@link #poll(Duration)}. A consumer that loops over this pays one commit
   * (one fsync at {@code durability = full}) per message instead of two. The guarantees are those
   * of {@link #ack} followed by {@link #poll(Duration)}: when this returns, the ack is final and
   * the next delivery's attempt is stored. If {@code done}'s lease was lost (the message was
   * delivered again), nothing is acked, as when {@link #ack} returns {@code false}, and this only
   * polls.
   *
   * @throws io.cairn.persistence.ClosedException if the queue is closed
   */
  public Optional<Delivery<T>> ackAndPoll(Delivery<T> done, Duration timeout) {
    List<Delivery<byte[]>> raw = engine.ackAndPoll(done.id(), done.token(), 1, timeout);
    return raw.isEmpty()
        ? Optional.empty()
        : Optional.of(raw.get(0).withPayload(codec.decode(raw.get(0).payload())));
  }

  /**
   * Returns the message for redelivery after the default backoff ({@code backoff-initial} doubling
   * per attempt up to {@code backoff-max}), or dead-letters it if this was delivery number {@code
   * max-attempts}. Returns {@code false} if the lease was lost.
   */
  public boolean nack(Delivery<T> delivery) {
    return engine.nack(delivery.id(), delivery.token(), delivery.attempt(), null);
  }

  /** As {@link #nack(Delivery)} with an explicit delay (zero: redeliver at once). */
  public boolean nack(Delivery<T> delivery, Duration delay) {
    return engine.nack(
        delivery.id(),
        delivery.token(),
        delivery.attempt(),
        Objects.requireNonNull(delay, "delay"));
  }

  /**
   * Moves the message to the dead-letter store now, whatever its attempt count, recording {@code
   * reason}. Returns {@code false} if the lease was lost.
   */
  public boolean deadLetter(Delivery<T> delivery, String reason) {
    return engine.deadLetter(delivery.id(), delivery.token(), reason);
  }

  /** Up to {@code max} dead letters with id at least {@code fromId}, in id order. */
  public List<DeadLetter<T>> deadLetters(long fromId, int max) {
    List<DeadLetter<T>> out = new ArrayList<>();
    for (DeadLetter<byte[]> d : engine.deadLetters(fromId, max)) {
      out.add(d.withPayload(codec.decode(d.payload())));
    }
    return out;
  }

  /**
   * Moves the dead letters with these ids back into the queue as new messages (new ids, attempt
   * count reset), atomically with their removal from the dead-letter store. Unknown ids are
   * ignored. Returns how many were moved.
   */
  public int redrive(Collection<Long> ids) {
    return engine.redrive(ids);
  }

  /** Redrives every dead letter; returns how many were moved. */
  public long redriveAll() {
    return engine.redriveAll();
  }

  /** Counts and ages now; also available as gauges. */
  public QueueStats stats() {
    return engine.stats();
  }

  /**
   * Stores the queue's floor and truncates every finished message at the head of the log now,
   * instead of waiting for {@code truncate-every}. Returns the number of log records removed. In a
   * shared queue an ack deletes the message at once, so this does nothing and returns 0.
   */
  public long truncateFinished() {
    return engine.maybeTruncate(true);
  }

  /**
   * Starts {@code workers} threads that poll this queue and pass each delivery to {@code handler}:
   * a normal return acks the message, an exception nacks it with the default backoff. Close the
   * returned object to stop them; closing the queue stops them too.
   */
  public QueueWorkers consume(int workers, MessageHandler<T> handler) {
    return new QueueWorkers(engine, this, workers, handler);
  }

  /**
   * Closes the queue if this object opened it (from {@link #open}); a queue handed out by {@link
   * DurableQueues} is closed by the registry instead and this does nothing. Stops consumer helpers
   * first. Idempotent.
   */
  @Override
  public void close() {
    if (ownsEngine) {
      engine.close();
    }
  }

  @Override
  public String toString() {
    return "DurableQueue[" + name() + " on " + backendName() + "]";
  }
}
