package io.cairn.queue;

/**
 * Processes one delivery for {@link QueueWorkers}. Returning normally acks the message; throwing
 * nacks it with the default backoff (so it is retried, and dead-lettered after {@code
 * max-attempts}). Called concurrently from the worker threads; must be idempotent because delivery
 * is at-least-once.
 *
 * @param <T> payload type
 */
@FunctionalInterface
public interface MessageHandler<T> {
  void handle(Delivery<T> delivery) throws Exception;
}
