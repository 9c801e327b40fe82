package io.cairn.queue;

import java.time.Duration;
import java.util.Collection;
import java.util.List;

/**
 * The byte-level queue behind {@link DurableQueue}, one per open queue, with two implementations
 * chosen when the queue opens ({@link DurableQueue#openEngine}):
 *
 * <ul>
 *   <li>{@link QueueEngine}: one process owns the queue; an in-memory index over the backend's log
 *       and key-value stores (SQLite, RocksDB, memory and any backend without {@link
 *       io.cairn.persistence.Capability#MULTI_PROCESS}).
 *   <li>{@link SharedQueueEngine}: many processes share the queue; every lease is taken by the
 *       storage server through the backend's {@link io.cairn.persistence.LeasedQueueStore}
 *       extension (PostgreSQL).
 * </ul>
 *
 * Methods mean what the {@link DurableQueue} methods of the same name document; {@code token} is
 * {@link Delivery#token()}. Thread-safe.
 */
interface QueueCore extends AutoCloseable {
  String name();

  String backendName();

  /** Enqueues the payloads atomically; returns their ids in order once durable. */
  List<Long> enqueue(List<byte[]> payloads);

  List<Delivery<byte[]>> poll(int max, Duration timeout);

  boolean ack(long id, long token);

  List<Delivery<byte[]>> ackAndPoll(long id, long token, int max, Duration timeout);

  /**
   * {@code delay} null: the default backoff. Dead-letters at max-attempts; {@code attempt} is the
   * delivery's {@link Delivery#attempt()} (the token need not be the attempt number).
   */
  boolean nack(long id, long token, int attempt, Duration delay);

  boolean deadLetter(long id, long token, String reason);

  List<DeadLetter<byte[]>> deadLetters(long fromId, int max);

  int redrive(Collection<Long> ids);

  long redriveAll();

  /** See {@link DurableQueue#truncateFinished}. */
  long maybeTruncate(boolean force);

  QueueStats stats();

  void addWorkers(AutoCloseable workers);

  void removeWorkers(AutoCloseable workers);

  boolean isClosed();

  /** Runs {@code hook} once when the queue closes (after its workers stopped). */
  void onClose(Runnable hook);

  @Override
  void close();
}
