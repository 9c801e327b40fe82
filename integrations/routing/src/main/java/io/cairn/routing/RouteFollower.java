package io.cairn.routing;

import io.cairn.persistence.ChangeNotifications;
import io.cairn.persistence.PersistenceException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one {@link RouteTable} on a multi-process backend up to date with the changes other
 * instances append to its log (see "Several instances" on {@link RouteTable}): a catch-up on every
 * {@link ChangeNotifications} message that announces a newer version, on every resync (subscribe,
 * reconnect, overflow) and every {@code follow-interval} on the thread {@code
 * cairn-route-follow-<table>}. A catch-up that fails (backend unreachable) is logged at WARN once
 * per outage, shown by {@link #failure()} in the table's health check, and tried again at the next
 * trigger. Thread-safe.
 */
final class RouteFollower implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RouteFollower.class);

  private final RouteTable table;
  private final ChangeNotifications notifications; // null: the backend offers none
  private final String channel;
  private final Duration interval;
  private final String describe;
  private final AtomicBoolean publishFailureLogged = new AtomicBoolean();
  private ScheduledExecutorService poller;
  private ChangeNotifications.Subscription subscription;
  private volatile String failure; // why the last catch-up failed; null after one succeeded

  RouteFollower(
      RouteTable table,
      ChangeNotifications notifications,
      String channel,
      Duration interval,
      String describe) {
    this.table = table;
    this.notifications = notifications;
    this.channel = channel;
    this.interval = interval;
    this.describe = describe;
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
      poller =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "cairn-route-follow-" + table.name());
                t.setDaemon(true);
                return t;
              });
      long ms = Math.max(1, interval.toMillis());
      poller.scheduleWithFixedDelay(() -> catchUp("periodic check"), ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  /** Catches the table up; failures are recorded, logged once per outage, never thrown. */
  void catchUp(String why) {
    try {
      long applied = table.catchUp();
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
            "{}: could not catch up with other instances' changes ({}): {}; retried at the next"
                + " notification, resync or check",
            describe,
            why,
            e.getMessage());
      } else {
        log.debug("{}: catch-up failed again: {}", describe, e.toString());
      }
      failure = "following other instances failed: " + e.getMessage();
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
    if (subscription != null) {
      subscription.close();
    }
    if (poller != null) {
      poller.shutdownNow();
    }
  }
}
