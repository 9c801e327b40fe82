package io.cairn.routing;

import io.cairn.persistence.ChangeNotifications;
import io.cairn.persistence.PersistenceException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one {@link RouteTable} on a multi-process backend up to date with the changes other
 * instances append to its log (see "Several instances" on {@link RouteTable}): a catch-up on every
 * {@link ChangeNotifications} message that announces a newer version, on every resync (subscribe,
 * reconnect, overflow) and every {@code follow-interval} on the thread {@code
 * cairn-route-follow-<table>}.
 *
 * <p>A catch-up that fails (backend unreachable) is logged at WARN once per outage, shown by {@link
 * #failure()} in the table's health check, and retried on that thread with backoff ({@value
 * #RETRY_INITIAL_MILLIS} ms doubling to {@value #RETRY_MAX_MILLIS} ms) until one succeeds. The
 * retry is what makes following converge when the failed trigger was the last one: after a server
 * restart the resync that follows the listener's reconnect may run while the pool still hands out a
 * dead connection, and the notification of a write made before that reconnect is gone; with {@code
 * follow-interval = 0} nothing else would ever catch the table up. Thread-safe.
 */
final class RouteFollower implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RouteFollower.class);

  static final long RETRY_INITIAL_MILLIS = 100;
  static final long RETRY_MAX_MILLIS = 5_000;

  /** What is followed: the table's applied version and its catch-up. */
  interface Target {
    /** The newest version applied. */
    long version();

    /**
     * Applies what other instances appended; returns how many changes.
     *
     * @throws PersistenceException if the backend cannot be read
     */
    long catchUp();
  }

  private final Target table;
  private final ChangeNotifications notifications; // null: the backend offers none
  private final String channel;
  private final Duration interval;
  private final String describe;
  private final AtomicBoolean publishFailureLogged = new AtomicBoolean();
  private final ScheduledExecutorService scheduler; // the thread cairn-route-follow-<table>
  private final AtomicBoolean retryPending = new AtomicBoolean();
  private final AtomicLong retryDelayMillis = new AtomicLong(RETRY_INITIAL_MILLIS);
  private volatile boolean closed;
  private ChangeNotifications.Subscription subscription;
  private volatile String failure; // why the last catch-up failed; null after one succeeded

  RouteFollower(
      Target table,
      String tableName,
      ChangeNotifications notifications,
      String channel,
      Duration interval,
      String describe) {
    this.table = table;
    this.notifications = notifications;
    this.channel = channel;
    this.interval = interval;
    this.describe = describe;
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "cairn-route-follow-" + tableName);
              t.setDaemon(true);
              return t;
            });
  }

  void start() {
    if (notifications != null) {
      subscription =
          notifications.subscribe(
              channel,
              new ChangeNotifications.Listener() {
                @Override
                public void onMessage(String message) {
                  long announced;
                  try {
                    announced = Long.parseLong(message);
                  } catch (NumberFormatException e) {
                    announced = Long.MAX_VALUE; // not ours to judge: catch up anyway
                  }
                  if (announced > table.version()) {
                    catchUp("notification");
                  }
                }

                @Override
                public void resync() {
                  catchUp("resync");
                }
              });
    } else {
      log.info(
          "{}: the backend offers no change notifications; other instances' changes are seen"
              + " by the check every follow-interval ({})",
          describe,
          interval);
    }
    if (!interval.isZero()) {
      long ms = Math.max(1, interval.toMillis());
      scheduler.scheduleWithFixedDelay(
          () -> catchUp("periodic check"), ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Catches the table up; a failure is recorded, logged once per outage and retried with backoff,
   * never thrown.
   */
  void catchUp(String why) {
    if (closed) {
      return;
    }
    try {
      long applied = table.catchUp();
      retryDelayMillis.set(RETRY_INITIAL_MILLIS);
      if (failure != null) {
        log.info("{}: following other instances again ({})", describe, why);
        failure = null;
      }
      if (applied > 0) {
        log.debug("{}: caught up {} changes of other instances ({})", describe, applied, why);
      }
    } catch (PersistenceException | IllegalStateException e) {
      if (failure == null) {
        log.warn(
            "{}: could not catch up with other instances' changes ({}): {}; retried with backoff"
                + " up to {} ms",
            describe,
            why,
            e.getMessage(),
            RETRY_MAX_MILLIS);
      } else {
        log.debug("{}: catch-up failed again: {}", describe, e.toString());
      }
      failure = "following other instances failed: " + e.getMessage();
      scheduleRetry();
    }
  }

  /** One retry at a time: later failures while one is pending are covered by it. */
  private void scheduleRetry() {
    if (closed || !retryPending.compareAndSet(false, true)) {
      return;
    }
    long delay = retryDelayMillis.getAndUpdate(d -> Math.min(RETRY_MAX_MILLIS, d * 2));
    try {
      scheduler.schedule(
          () -> {
            retryPending.set(false);
            catchUp("retry after a failed catch-up");
          },
          delay,
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      retryPending.set(false); // closed meanwhile
    }
  }

  /** Announces version {@code version} to the other instances; failures only logged. */
  void publish(long version) {
    if (notifications == null) {
      return;
    }
    try {
      notifications.publish(channel, Long.toString(version));
      publishFailureLogged.set(false);
    } catch (PersistenceException e) {
      if (publishFailureLogged.compareAndSet(false, true)) {
        log.warn(
            "{}: the change at version {} is durable but could not be announced to other"
                + " instances ({}); they see it at their next check (follow-interval {}) or resync",
            describe,
            version,
            e.getMessage(),
            interval);
      }
    }
  }

  /** Why following currently fails, or null. */
  String failure() {
    return failure;
  }

  @Override
  public void close() {
    closed = true;
    if (subscription != null) {
      subscription.close();
    }
    scheduler.shutdownNow();
  }
}
