package io.cairn.queue;

import com.codahale.metrics.health.HealthCheck;
import com.codahale.metrics.health.HealthCheckRegistry;

/**
 * The health check {@code cairn.queues.<name>} of an open queue: unhealthy once the queue is closed
 * or when its counts cannot be read (the message names the cause); healthy otherwise, with depth,
 * in-flight and dead-letter counts in the message. Dead letters do not make a queue unhealthy: they
 * are messages kept for an operator, and the gauge {@code dead-letters} shows them. Opening a queue
 * of the same name again replaces the check. Closing the queue removes its check, as closing a
 * cache or route table removes theirs (a closed queue is not a failure of the running service); the
 * close of a queue whose check was since replaced by a newer open leaves the newer check.
 */
final class QueueHealth extends HealthCheck {
  private final QueueCore engine;

  private QueueHealth(QueueCore engine) {
    this.engine = engine;
  }

  /** Registers (replacing) the check of {@code engine}'s queue. */
  static void register(HealthCheckRegistry healthChecks, QueueCore engine) {
    String name = "cairn.queues." + engine.name();
    QueueHealth check = new QueueHealth(engine);
    HealthCheck previous;
    synchronized (healthChecks) {
      previous = healthChecks.getHealthCheck(name);
      healthChecks.unregister(name);
      healthChecks.register(name, check);
    }
    engine.onClose(
        () -> {
          synchronized (healthChecks) {
            if (healthChecks.getHealthCheck(name) != check) {
              return; // replaced by a newer open of the queue: that one's check stays
            }
            healthChecks.unregister(name);
            // A shared queue may be open twice in one process: give the check back to the
            // earlier open if it is still open.
            if (previous instanceof QueueHealth p && !p.engine.isClosed()) {
              healthChecks.register(name, p);
            }
          }
        });
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
