package io.cairn.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.ChangeNotifications;
import io.cairn.persistence.PersistenceException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The follower on its own, with a table stand-in and notifications driven by the test: a catch-up
 * that fails is retried until one succeeds, even when no notification, resync or periodic check
 * comes after it (the case a server restart produces with {@code follow-interval = 0}).
 */
class RouteFollowerTest {

  /** Notifications that deliver exactly what the test hands them, on the test's thread. */
  private static final class ManualNotifications implements ChangeNotifications {
    volatile Listener listener;

    @Override
    public void publish(String channel, String message) {}

    @Override
    public Subscription subscribe(String channel, Listener l) {
      listener = l;
      return () -> listener = null;
    }
  }

  /** Fails its first {@code failures} catch-ups, then succeeds; counts both. */
  private static final class FlakyTarget implements RouteFollower.Target {
    final AtomicInteger attempts = new AtomicInteger();
    final CountDownLatch succeeded = new CountDownLatch(1);
    final int failures;

    FlakyTarget(int failures) {
      this.failures = failures;
    }

    @Override
    public long version() {
      return 0;
    }

    @Override
    public long catchUp() {
      if (attempts.incrementAndGet() <= failures) {
        throw new PersistenceException("server unreachable (attempt " + attempts.get() + ")");
      }
      succeeded.countDown();
      return 1;
    }
  }

  @Test
  void aFailedResyncIsRetriedWithoutAnyFurtherTrigger() throws Exception {
    ManualNotifications notifications = new ManualNotifications();
    FlakyTarget target = new FlakyTarget(3);
    try (RouteFollower follower =
        new RouteFollower(
            target, "catalog", notifications, "routing.catalog", Duration.ZERO, "test table")) {
      follower.start();
      notifications.listener.resync(); // the only trigger: it fails
      assertThat(follower.failure()).contains("server unreachable (attempt 1)");

      // 100 + 200 + 400 ms of backoff; the bound is generous for a loaded machine
      assertThat(target.succeeded.await(30, TimeUnit.SECONDS))
          .as("the follower retried until the catch-up succeeded")
          .isTrue();
      assertThat(target.attempts.get()).isEqualTo(4);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (follower.failure() != null && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(follower.failure()).as("health clears once following works again").isNull();
    }
  }

  @Test
  void noRetryRunsAfterClose() throws Exception {
    ManualNotifications notifications = new ManualNotifications();
    FlakyTarget target = new FlakyTarget(Integer.MAX_VALUE);
    RouteFollower follower =
        new RouteFollower(
            target, "catalog", notifications, "routing.catalog", Duration.ZERO, "test table");
    follower.start();
    notifications.listener.resync();
    follower.close();
    int attempts = target.attempts.get();
    Thread.sleep(3 * RouteFollower.RETRY_INITIAL_MILLIS);
    assertThat(target.attempts.get()).as("attempts after close").isEqualTo(attempts);
  }
}
