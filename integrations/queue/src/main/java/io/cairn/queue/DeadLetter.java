package io.cairn.queue;

import java.time.Instant;

/**
 * A message in a queue's dead-letter store, listed by {@link DurableQueue#deadLetters}.
 *
 * @param id the message id it had in the queue; {@link DurableQueue#redrive} takes it
 * @param payload the payload
 * @param attempts deliveries made before it was dead-lettered
 * @param enqueuedAt when it was first enqueued
 * @param deadAt when it was dead-lettered
 * @param reason why: "max-attempts reached (nack)", "max-attempts reached (lease expired)" or the
 *     reason given to {@link DurableQueue#deadLetter}
 * @param <T> payload type
 */
public record DeadLetter<T>(
    long id, T payload, int attempts, Instant enqueuedAt, Instant deadAt, String reason) {
  <U> DeadLetter<U> withPayload(U other) {
    return new DeadLetter<>(id, other, attempts, enqueuedAt, deadAt, reason);
  }
}
