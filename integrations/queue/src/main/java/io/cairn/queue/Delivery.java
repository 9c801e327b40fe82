package io.cairn.queue;

import java.time.Instant;
import java.util.Objects;

/**
 * One delivery of a message under a lease, handed out by {@link DurableQueue#poll}. Pass it back to
 * {@link DurableQueue#ack}, {@link DurableQueue#nack} or {@link DurableQueue#deadLetter} before
 * {@link #leaseDeadline()}; after that the message may be delivered again to another consumer, and
 * this delivery can no longer settle it. Immutable and thread-safe.
 *
 * @param <T> payload type
 */
public final class Delivery<T> {
  private final long id;
  private final T payload;
  private final int attempt;
  private final Instant enqueuedAt;
  private final Instant leaseDeadline;
  private final long token;

  Delivery(long id, T payload, int attempt, Instant enqueuedAt, Instant leaseDeadline) {
    this(id, payload, attempt, attempt, enqueuedAt, leaseDeadline);
  }

  Delivery(long id, T payload, int attempt, long token, Instant enqueuedAt, Instant leaseDeadline) {
    this.token = token;
    this.id = id;
    this.payload = Objects.requireNonNull(payload, "payload");
    this.attempt = attempt;
    this.enqueuedAt = enqueuedAt;
    this.leaseDeadline = leaseDeadline;
  }

  /** The message id: stable across deliveries and restarts (its log offset). */
  public long id() {
    return id;
  }

  /** The decoded payload. */
  public T payload() {
    return payload;
  }

  /** Which delivery of the message this is: 1 for the first; survives restarts. */
  public int attempt() {
    return attempt;
  }

  /**
   * Identifies this lease of the message: an ack, nack or dead-letter acts only while it is the
   * message's latest lease. (The attempt number in a one-process queue; chosen by the storage
   * server in a shared one.)
   */
  long token() {
    return token;
  }

  /**
   * When the message was enqueued: by the registry clock, or by the database server's clock in a
   * queue shared by several processes ({@link io.cairn.persistence.LeasedQueueStore}).
   */
  public Instant enqueuedAt() {
    return enqueuedAt;
  }

  /** When the lease runs out: by the same clock as {@link #enqueuedAt()}. */
  public Instant leaseDeadline() {
    return leaseDeadline;
  }

  <U> Delivery<U> withPayload(U other) {
    return new Delivery<>(id, other, attempt, token, enqueuedAt, leaseDeadline);
  }

  @Override
  public String toString() {
    return "Delivery[id=" + id + ", attempt=" + attempt + ", enqueuedAt=" + enqueuedAt + "]";
  }
}
