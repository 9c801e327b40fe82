package io.cairn.queue;

import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.Settings;
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
 * <p>Thread-safe. Metrics are published under {@code cairn.queues.<name>}: gauges {@code depth},
 * {@code in-flight}, {@code dead-letters}, {@code oldest-age-ms}; meters {@code enqueued}, {@code
 * acked}, {@code nacked}, {@code dead-lettered}, {@code redelivered}; histogram {@code
 * commit-batch} (state changes per group commit). Storage failures throw {@link
 * io.cairn.persistence.PersistenceException} subclasses; nothing is half-applied.
 *
 * @param <T> payload type
 */
public final class DurableQueue<T> implements AutoCloseable {
  private final QueueEngine engine;
  private final Codec<T> codec;
  private final boolean ownsEngine;

  DurableQueue(QueueEngine engine, Codec<T> codec, boolean ownsEngine) {
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
   *     in this process, or recovery fails
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

  static QueueEngine openEngine(PersistenceRegistry registry, String name) {
    Objects.requireNonNull(name, "name");
    List<ConfigProblem> problems = new ArrayList<>();
    QueueSettings s = QueueSettings.read(registry.config(), name, problems);
    Settings.throwIfAny(problems);
    QueueEngine engine =
        QueueEngine.open(registry.backend(s.backend()), s, registry.clock(), registry.metrics());
    QueueHealth.register(registry.healthChecks(), engine);
    return engine;
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
    return engine.enqueueAll(List.of(codec.encode(Objects.requireNonNull(message, "message"))));
  }

  /**
   * Enqueues the messages atomically (all or none) with consecutive ids, and returns the ids in
   * order once they are durable.
   */
  public List<Long> enqueueAll(Collection<? extends T> messages) {
    Objects.requireNonNull(messages, "messages");
    List<byte[]> payloads = new ArrayList<>(messages.size());
    for (T m : messages) {
      payloads.add(codec.encode(Objects.requireNonNull(m, "message")));
    }
    long first = engine.enqueueAll(payloads);
    List<Long> ids = new ArrayList<>(payloads.size());
    for (int i = 0; i < payloads.size(); i++) {
      ids.add(first + i);
    }
    return ids;
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
    return engine.ack(delivery.id(), delivery.attempt());
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
    List<Delivery<byte[]>> raw = engine.ackAndPoll(done.id(), done.attempt(), 1, timeout);
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
    return engine.nack(delivery.id(), delivery.attempt(), null);
  }

  /** As {@link #nack(Delivery)} with an explicit delay (zero: redeliver at once). */
  public boolean nack(Delivery<T> delivery, Duration delay) {
    return engine.nack(delivery.id(), delivery.attempt(), Objects.requireNonNull(delay, "delay"));
  }

  /**
   * Moves the message to the dead-letter store now, whatever its attempt count, recording {@code
   * reason}. Returns {@code false} if the lease was lost.
   */
  public boolean deadLetter(Delivery<T> delivery, String reason) {
    return engine.deadLetter(delivery.id(), delivery.attempt(), reason);
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
   * instead of waiting for {@code truncate-every}. Returns the number of log records removed.
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
