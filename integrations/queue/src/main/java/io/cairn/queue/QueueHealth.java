package io.cairn.queue;

import com.codahale.metrics.health.HealthCheck;
import com.codahale.metrics.health.HealthCheckRegistry;

/**
 * The health check {@code cairn.queues.<name>} of an open queue: unhealthy once the queue is closed
 * or when its counts cannot be read (the message names the cause); healthy otherwise, with depth,
 * in-flight and dead-letter counts in the message. Dead letters do not make a queue unhealthy: they
 * are messages kept for an operator, and the gauge {@code dead-letters} shows them. Opening a queue
 * of the same name again replaces the check.
 */
final class QueueHealth extends HealthCheck {
  private final QueueEngine engine;

  private QueueHealth(QueueEngine engine) {
    this.engine = engine;
  }

  /** Registers (replacing) the check of {@code engine}'s queue. */
  static void register(HealthCheckRegistry healthChecks, QueueEngine engine) {
    String name = "cairn.queues." + engine.name();
    healthChecks.unregister(name);
    healthChecks.register(name, new QueueHealth(engine));
  }

  @Override
  protected Result check() {
    if (engine.isClosed()) {
      return Result.unhealthy("queue '" + engine.name() + "' is closed");
    }
    try {
      QueueStats s = engine.stats();
      return Result.healthy(
          "queue '"
              + engine.name()
              + "': depth "
              + s.depth()
              + ", in flight "
              + s.inFlight()
              + ", dead letters "
              + s.deadLetters());
    } catch (RuntimeException e) {
      return Result.unhealthy("queue '" + engine.name() + "': " + e.getMessage());
    }
  }
}
