package io.cairn.backend.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.ChangeNotifications;
import io.cairn.persistence.PersistenceRegistry;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** {@link PostgresNotifications}: delivery between instances, resync, restart, close. */
class PostgresNotificationsTest {
  private static final String SCHEMA = "notify";

  /** Records messages and resyncs ("!resync") in arrival order. */
  static final class Recorder implements ChangeNotifications.Listener {
    final LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();

    @Override
    public void onMessage(String message) {
      events.add(message);
    }

    @Override
    public void resync() {
      events.add("!resync");
    }

    String next() throws InterruptedException {
      String e = events.poll(60, TimeUnit.SECONDS);
      assertThat(e).as("an event within 60 s").isNotNull();
      return e;
    }

    /** Skips resyncs; the next message. */
    String nextMessage() throws InterruptedException {
      while (true) {
        String e = next();
        if (!e.equals("!resync")) {
          return e;
        }
      }
    }
  }

  private static ChangeNotifications notifications(PersistenceRegistry r) {
    return r.backend("pg").extension(ChangeNotifications.class).orElseThrow();
  }

  @Test
  void otherInstancesReceiveThePublisherDoesNot() throws Exception {
    TestPostgres.shared().dropSchema(SCHEMA);
    try (PersistenceRegistry a = PgTests.open(SCHEMA, "");
        PersistenceRegistry b = PgTests.open(SCHEMA, "");
        PersistenceRegistry other = PgTests.open(SCHEMA + "_other", "")) {
      ChangeNotifications na = notifications(a);
      assertThat(notifications(a)).as("one instance per backend").isSameAs(na);
      Recorder ra = new Recorder();
      Recorder rb = new Recorder();
      Recorder rOther = new Recorder();
      Recorder rbElse = new Recorder();
      na.subscribe("c1", ra);
      notifications(b).subscribe("c1", rb);
      notifications(b).subscribe("c2", rbElse);
      notifications(other).subscribe("c1", rOther);
      assertThat(ra.next()).as("told to resync at subscribe").isEqualTo("!resync");
      assertThat(rb.next()).isEqualTo("!resync");
      waitListening(a, b, other);

      na.publish("c1", "hello ü");
      na.publish("c1", "second");
      assertThat(rb.nextMessage()).isEqualTo("hello ü");
      assertThat(rb.nextMessage()).isEqualTo("second");
      // the publisher's own subscriber, another channel and another schema hear nothing
      notifications(b).publish("c1", "from b");
      assertThat(ra.nextMessage()).isEqualTo("from b");
      na.publish("c1", "sentinel"); // after b's own message would have arrived at b
      assertThat(rb.nextMessage()).as("b is not told its own message").isEqualTo("sentinel");
      assertThat(rbElse.events).containsOnly("!resync");
      assertThat(rOther.events).containsOnly("!resync");
    }
  }

  /**
   * The listening thread publishes its connection, then resyncs every subscriber whose subscribe()
   * already sent its own resync. A subscribe() that saw the connection before that resync got a
   * second one after it returned (TieredCacheTest's closed-backend case on PostgreSQL: the second
   * resync emptied an L1 filled after the cache opened). The pause here stands in for the listening
   * thread descheduled between the two steps.
   */
  @Test
  void aSubscriberIsToldToResyncOnceWhenTheListeningThreadPausesBeforeItsResync() throws Exception {
    TestPostgres.shared().dropSchema(SCHEMA);
    try (PersistenceRegistry a = PgTests.open(SCHEMA, "");
        PersistenceRegistry b = PgTests.open(SCHEMA, "")) {
      PostgresNotifications na = (PostgresNotifications) notifications(a);
      na.afterListen =
          () -> {
            try {
              Thread.sleep(300);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          };
      Recorder ra = new Recorder();
      na.subscribe("c1", ra);
      assertThat(ra.next()).as("told to resync at subscribe").isEqualTo("!resync");
      Recorder rb = new Recorder();
      notifications(b).subscribe("c1", rb);
      waitListening(a, b);
      notifications(b).publish("c1", "sentinel");
      // any resync of a's listening thread comes before the messages it dispatches
      assertThat(ra.next()).as("the message, no second resync before it").isEqualTo("sentinel");
    }
  }

  @Test
  void badNamesAndSizesAreRefusedAndCloseStopsEverything() throws Exception {
    TestPostgres.shared().dropSchema(SCHEMA);
    PersistenceRegistry a = PgTests.open(SCHEMA, "");
    ChangeNotifications n = notifications(a);
    assertThatThrownBy(() -> n.publish("x\"; DROP TABLE t; --", "m"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[A-Za-z0-9._-]");
    assertThatThrownBy(() -> n.subscribe("", new Recorder()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> n.publish("c", "x".repeat(ChangeNotifications.MAX_MESSAGE_BYTES + 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("4000");
    n.publish("c", "x".repeat(ChangeNotifications.MAX_MESSAGE_BYTES)); // at the limit: accepted
    Recorder r = new Recorder();
    ChangeNotifications.Subscription s = n.subscribe("c", r);
    waitListening(a);
    assertThat(liveThreads()).isNotEmpty();
    s.close();
    a.close();
    assertThatThrownBy(() -> n.publish("c", "m")).isInstanceOf(BackendClosedException.class);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!liveThreads().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(liveThreads()).as("listening and delivery threads stop with the backend").isEmpty();
  }

  @Test
  void afterAServerRestartSubscribersResyncAndMessagesFlowAgain() throws Exception {
    TestPostgres pg = TestPostgres.shared();
    Assumptions.assumeTrue(pg.managed(), "the server at -DpgTestUrl is not restarted by tests");
    pg.dropSchema(SCHEMA);
    try (PersistenceRegistry a = PgTests.open(SCHEMA, "connect-timeout = 2s");
        PersistenceRegistry b = PgTests.open(SCHEMA, "connect-timeout = 2s")) {
      Recorder rb = new Recorder();
      notifications(b).subscribe("c", rb);
      waitListening(b); // a only publishes: it never opens a listening connection
      PostgresNotifications nb = (PostgresNotifications) notifications(b);
      long connectsBefore = nb.connects();
      pg.stop();
      try {
        assertThatThrownBy(() -> notifications(a).publish("c", "during"))
            .isInstanceOf(PostgresUnavailableException.class);
      } finally {
        pg.start();
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (nb.connects() == connectsBefore) {
        assertThat(System.nanoTime()).as("reconnected within 60 s").isLessThan(deadline);
        Thread.sleep(20);
      }
      String last = null;
      while (!rb.events.isEmpty()) {
        last = rb.events.poll();
      }
      if (last == null) {
        last = rb.next();
      }
      assertThat(last).as("the subscriber resyncs after the reconnect").isEqualTo("!resync");
      while (true) {
        try {
          notifications(a).publish("c", "after");
          break;
        } catch (PostgresUnavailableException e) {
          assertThat(System.nanoTime()).isLessThan(deadline);
          Thread.sleep(200);
        }
      }
      assertThat(rb.nextMessage()).as("a message after the restart").isEqualTo("after");
    }
  }

  private static List<Thread> liveThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .filter(
            t ->
                t.getName().startsWith("cairn-postgres-listen-pg")
                    || t.getName().startsWith("cairn-postgres-notify-pg"))
        .toList();
  }

  /** Waits until each backend's listening connection is up (LISTEN done). */
  static void waitListening(PersistenceRegistry... registries) throws InterruptedException {
    for (PersistenceRegistry r : registries) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      PostgresNotifications n =
          (PostgresNotifications)
              r.backend("pg").extension(ChangeNotifications.class).orElseThrow();
      while (!n.listening()) {
        assertThat(System.nanoTime()).as("listening within 60 s").isLessThan(deadline);
        Thread.sleep(20);
      }
    }
  }
}
