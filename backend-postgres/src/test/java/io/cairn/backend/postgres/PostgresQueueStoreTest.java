package io.cairn.backend.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.LeasedQueueStore;
import io.cairn.persistence.LeasedQueueStore.Lease;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StoreCorruptedException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The {@link LeasedQueueStore} contract on PostgreSQL ({@link PostgresQueueStore}). */
class PostgresQueueStoreTest {
  private static final String SCHEMA = "leasedq";
  private static final Duration LONG = Duration.ofMinutes(5);

  private PersistenceRegistry r1;
  private PersistenceRegistry r2;
  private LeasedQueueStore q1;
  private LeasedQueueStore q2;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @BeforeEach
  void open() {
    TestPostgres.shared().dropSchema(SCHEMA);
    r1 = PgTests.open(SCHEMA, "pool-size = 6");
    r2 = PgTests.open(SCHEMA, "pool-size = 6"); // a second "instance": its own pool
    q1 = r1.backend("pg").extension(LeasedQueueStore.class).orElseThrow();
    q2 = r2.backend("pg").extension(LeasedQueueStore.class).orElseThrow();
  }

  @AfterEach
  void close() {
    r1.close();
    r2.close();
  }

  @Test
  void leaseAckAndAStaleTokenIsRefused() {
    List<Long> ids = q1.enqueueAll("q", List.of(b("a"), b("b")));
    assertThat(ids).hasSize(2).isSorted();
    assertThat(q1.enqueueAll("other", List.of(b("x")))).hasSize(1);

    Lease a = q1.lease("q", 1, Duration.ofMillis(300), 5).leases().get(0);
    assertThat(a.id()).isEqualTo(ids.get(0));
    assertThat(a.payload()).isEqualTo(b("a"));
    assertThat(a.attempt()).isEqualTo(1);
    assertThat(a.deadline()).isAfter(a.enqueuedAt());
    LeasedQueueStore.Counts counts = q1.counts("q");
    assertThat(counts.ready()).isEqualTo(1);
    assertThat(counts.leased()).isEqualTo(1);
    assertThat(counts.dead()).isZero();

    // the lease runs out (server clock); another instance takes the message with a new token
    Lease again = awaitLease(q2, "q", a.id());
    assertThat(again.attempt()).isEqualTo(2);
    assertThat(again.token()).isNotEqualTo(a.token());
    assertThat(q1.ack("q", a.id(), a.token())).as("stale token").isFalse();
    assertThat(q1.nack("q", a.id(), a.token(), Duration.ZERO)).as("stale nack").isFalse();
    assertThat(q1.extend("q", a.id(), a.token(), LONG)).as("stale extend").isEmpty();
    assertThat(q2.extend("q", again.id(), again.token(), LONG)).isPresent();
    assertThat(q2.ack("q", again.id(), again.token())).isTrue();
    assertThat(q2.ack("q", again.id(), again.token())).as("second ack").isFalse();
    assertThat(q1.counts("other").ready()).as("queues are separate").isEqualTo(1);
  }

  private static Lease awaitLease(LeasedQueueStore q, String queue, long id) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      for (Lease l : q.lease(queue, 10, LONG, 5).leases()) {
        if (l.id() == id) {
          return l;
        }
      }
      sleep(50);
    }
    throw new AssertionError("message " + id + " was never leased again");
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Test
  void concurrentLesseesInTwoInstancesNeverShareAMessage() throws Exception {
    int n = 2000;
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      payloads.add(b("m" + i));
    }
    q1.enqueueAll("q", payloads);
    Map<Long, Integer> leasedBy = new ConcurrentHashMap<>();
    AtomicInteger doubles = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<?>> fs = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      LeasedQueueStore q = t % 2 == 0 ? q1 : q2;
      int me = t;
      fs.add(
          pool.submit(
              () -> {
                while (true) {
                  List<Lease> got = q.lease("q", 25, LONG, 5).leases();
                  if (got.isEmpty()) {
                    return null;
                  }
                  for (Lease l : got) {
                    if (leasedBy.putIfAbsent(l.id(), me) != null) {
                      doubles.incrementAndGet();
                    }
                  }
                }
              }));
    }
    for (Future<?> f : fs) {
      f.get(2, TimeUnit.MINUTES);
    }
    pool.shutdown();
    assertThat(doubles.get()).as("messages leased twice while a lease was held").isZero();
    assertThat(leasedBy).hasSize(n);
    assertThat(q1.counts("q").leased()).isEqualTo(n);
  }

  @Test
  void nackDelayDeadLetteringAtMaxAttemptsRedriveAndPurge() {
    long id = q1.enqueue("q", b("x"));
    Lease l = q1.lease("q", 5, LONG, 2).leases().get(0);
    assertThat(q1.nack("q", id, l.token(), Duration.ofMinutes(1))).isTrue();
    assertThat(q1.lease("q", 5, LONG, 2).leases()).as("delayed").isEmpty();
    assertThat(q1.counts("q").delayed()).isEqualTo(1);
    try (Connection c = TestPostgres.shared().connect();
        Statement st = c.createStatement()) { // make the delay pass and the next lease run out
      st.execute("UPDATE " + SCHEMA + ".queue_message SET visible_at = now() - interval '1s'");
      Lease l2 = q1.lease("q", 5, LONG, 2).leases().get(0);
      assertThat(l2.attempt()).isEqualTo(2);
      st.execute("UPDATE " + SCHEMA + ".queue_message SET visible_at = now() - interval '1s'");
    } catch (java.sql.SQLException e) {
      throw new AssertionError(e);
    }
    LeasedQueueStore.LeaseBatch batch = q1.lease("q", 5, LONG, 2);
    assertThat(batch.leases()).isEmpty();
    assertThat(batch.deadLettered()).isEqualTo(1);
    var dead = q1.deadLetters("q", 0, 10);
    assertThat(dead).hasSize(1);
    assertThat(dead.get(0).reason()).isEqualTo("max-attempts reached (lease expired)");
    assertThat(dead.get(0).payload()).isEqualTo(b("x"));
    assertThat(dead.get(0).attempts()).isEqualTo(2);

    assertThat(q1.redrive("q", List.of(id, 999_999L))).isEqualTo(1);
    assertThat(q1.deadLetters("q", 0, 10)).isEmpty();
    Lease back = q1.lease("q", 5, LONG, 2).leases().get(0);
    assertThat(back.id()).as("a new id").isGreaterThan(id);
    assertThat(back.attempt()).isEqualTo(1);
    assertThat(q1.deadLetter("q", back.id(), back.token(), "poison")).isTrue();
    assertThat(q1.deadLetters("q", 0, 10).get(0).reason()).isEqualTo("poison");
    q1.enqueueAll("q", List.of(b("1"), b("2")));
    assertThat(q1.purge("q", false)).isEqualTo(2);
    assertThat(q1.counts("q").dead()).isEqualTo(1);
    assertThat(q1.purge("q", true)).isEqualTo(1);
    assertThat(q1.counts("q")).isEqualTo(new LeasedQueueStore.Counts(0, 0, 0, 0, 0));
  }

  @Test
  void aDamagedPayloadIsNamedNotDelivered() throws Exception {
    long id = q1.enqueue("q", b("payload"));
    try (Connection c = TestPostgres.shared().connect();
        Statement st = c.createStatement()) {
      st.execute("UPDATE " + SCHEMA + ".queue_message SET payload = '\\x00'");
    }
    assertThatThrownBy(() -> q1.lease("q", 1, LONG, 5))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("message " + id + " of queue 'q'");
  }

  @Test
  void badArgumentsAreRefused() {
    assertThatThrownBy(() -> q1.lease("q", 0, LONG, 5))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> q1.lease("", 1, LONG, 5)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> q1.nack("q", 1, 1, Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(q1.ack("q", 12345, 1)).isFalse();
    assertThat(q1.enqueueAll("q", List.of())).isEmpty();
  }

  @Test
  void aVersion1SchemaIsMigratedToTheQueueTable() throws Exception {
    q1.enqueue("q", b("kept?"));
    r1.backend("pg").keyValue("ns").put(b("k"), b("v"));
    close();
    try (Connection c = TestPostgres.shared().connect();
        Statement st = c.createStatement()) { // back to the layout of version 1
      st.execute("DROP TABLE " + SCHEMA + ".queue_message");
      st.execute("DROP SEQUENCE " + SCHEMA + ".queue_message_id");
      // and without the later steps: append times (3; kept rows have none) and key checks (4)
      st.execute("ALTER TABLE " + SCHEMA + ".log_record DROP COLUMN appended_at");
      st.execute("DROP TABLE IF EXISTS " + SCHEMA + ".cairn_keycheck");
      st.execute("UPDATE " + SCHEMA + ".cairn_schema SET version = 1");
    }
    r1 = PgTests.open(SCHEMA, "");
    r2 = PgTests.open(SCHEMA, "");
    q1 = r1.backend("pg").extension(LeasedQueueStore.class).orElseThrow();
    assertThat(r1.backend("pg").keyValue("ns").get(b("k"))).isEqualTo(b("v"));
    long id = q1.enqueue("q", b("new"));
    assertThat(q1.lease("q", 5, LONG, 5).leases()).extracting(Lease::id).containsExactly(id);
    try (Connection c = TestPostgres.shared().connect();
        Statement st = c.createStatement();
        var rs = st.executeQuery("SELECT version FROM " + SCHEMA + ".cairn_schema")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(PostgresSchema.VERSION);
    }
  }
}
