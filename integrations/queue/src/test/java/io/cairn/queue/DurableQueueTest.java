package io.cairn.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.ClosedException;
import io.cairn.persistence.Codec;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The queue's behaviour, run on every backend in {@link TestBackends#TYPES}. */
class DurableQueueTest {
  private static final String QUEUE =
      "cairn.queues.q { backend = b, visibility-timeout = 30s, max-attempts = 3,"
          + " backoff-initial = 1s, backoff-max = 4s, truncate-every = 10, prefetch = 4 }\n";
  private static final Duration NOW = Duration.ZERO;

  @TempDir Path dir;
  final ManualClock clock = new ManualClock();

  private String type;

  private PersistenceRegistry open(String type) {
    this.type = type;
    return TestBackends.open(type, dir, clock, QUEUE);
  }

  private boolean shared() {
    return TestBackends.SHARED.equals(type);
  }

  /**
   * Advances the registry clock; for the shared queue, whose leases and delays run on the database
   * server's clock, moves every time stored for the queue back by as much, which is the same as the
   * server's clock jumping ahead (real time passes as well, so the shared variant is only run by
   * tests that leave a margin of a second or more).
   */
  private void advance(Duration d) {
    clock.advance(d);
    if (shared()) {
      try (java.sql.Connection c = io.cairn.backend.postgres.PostgresTestServer.shared().connect();
          java.sql.Statement st = c.createStatement()) {
        st.execute(
            "UPDATE "
                + TestBackends.schema(dir)
                + ".queue_message SET visible_at = visible_at - interval '"
                + d.toMillis()
                + " milliseconds', enqueued_at = enqueued_at - interval '"
                + d.toMillis()
                + " milliseconds'");
      } catch (java.sql.SQLException e) {
        throw new AssertionError(e);
      }
    }
  }

  private static List<String> payloads(List<Delivery<String>> ds) {
    return ds.stream().map(Delivery::payload).collect(Collectors.toList());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#durableTypesWithShared")
  void aSecondAckOfOneDeliveryReturnsFalseAlsoAfterARestart(String type) {
    Delivery<String> d;
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      q.enqueue("a");
      d = q.poll(1, NOW).get(0);
      assertThat(q.ack(d)).as("first ack").isTrue();
      assertThat(q.ack(d)).as("second ack of the same delivery").isFalse();
      assertThat(q.nack(d)).as("nack after the ack").isFalse();
      assertThat(q.stats().acked()).as("counted once").isEqualTo(1);
    }
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      assertThat(q.ack(d)).as("an ack of the same delivery after a restart").isFalse();
      advance(Duration.ofHours(1));
      assertThat(q.poll(10, NOW)).as("never delivered again").isEmpty();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#typesWithShared")
  void firstDeliveriesInEnqueueOrderAndAckIsFinal(String type) {
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      long id0 = q.enqueue("a");
      List<Long> ids = q.enqueueAll(List.of("b", "c", "d", "e", "f"));
      assertThat(ids).containsExactly(id0 + 1, id0 + 2, id0 + 3, id0 + 4, id0 + 5);

      List<Delivery<String>> first = q.poll(2, NOW);
      assertThat(payloads(first)).containsExactly("a", "b");
      assertThat(first.get(0).attempt()).isEqualTo(1);
      assertThat(first.get(0).id()).isEqualTo(id0);
      if (shared()) { // the database server's clock, not the registry's
        assertThat(first.get(0).enqueuedAt())
            .isCloseTo(
                java.time.Instant.now(),
                org.assertj.core.api.Assertions.within(1, java.time.temporal.ChronoUnit.MINUTES));
        assertThat(first.get(0).leaseDeadline())
            .isAfterOrEqualTo(first.get(0).enqueuedAt().plusSeconds(30));
      } else {
        assertThat(first.get(0).enqueuedAt()).isEqualTo(ManualClock.START);
        assertThat(first.get(0).leaseDeadline()).isEqualTo(ManualClock.START.plusSeconds(30));
      }
      List<Delivery<String>> rest = q.poll(10, NOW);
      assertThat(payloads(rest)).containsExactly("c", "d", "e", "f");
      for (Delivery<String> d : first) {
        assertThat(q.ack(d)).isTrue();
      }
      assertThat(q.ack(first.get(0))).as("second ack of the same delivery").isFalse();
      for (Delivery<String> d : rest) {
        q.ack(d);
      }
      advance(Duration.ofHours(1));
      assertThat(q.poll(10, NOW)).as("acked messages are never delivered again").isEmpty();
      assertThat(q.stats().depth()).isZero();
      assertThat(q.stats().inFlight()).isZero();
      assertThat(q.stats().acked()).isEqualTo(6);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#typesWithShared")
  void pollWaitsForAnEnqueueFromAnotherThread(String type) throws Exception {
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      assertThat(q.poll(Duration.ofMillis(20))).isEmpty();
      ExecutorService ex = Executors.newSingleThreadExecutor();
      try {
        CountDownLatch polling = new CountDownLatch(1);
        Future<Optional<Delivery<String>>> f =
            ex.submit(
                () -> {
                  polling.countDown();
                  return q.poll(Duration.ofSeconds(30));
                });
        polling.await();
        Thread.sleep(50);
        q.enqueue("late");
        assertThat(f.get(10, TimeUnit.SECONDS)).map(Delivery::payload).contains("late");
      } finally {
        ex.shutdownNow();
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#typesWithShared")
  void expiredLeaseRedeliversAndTheStaleDeliveryCannotSettle(String type) {
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      q.enqueue("m");
      Delivery<String> first = q.poll(NOW).orElseThrow();
      advance(Duration.ofSeconds(29));
      assertThat(q.poll(NOW)).as("lease still held").isEmpty();
      advance(Duration.ofSeconds(2));
      Delivery<String> second = q.poll(NOW).orElseThrow();
      assertThat(second.id()).isEqualTo(first.id());
      assertThat(second.attempt()).isEqualTo(2);
      assertThat(q.ack(first)).as("lease lost to the redelivery").isFalse();
      assertThat(q.nack(first)).isFalse();
      assertThat(q.ack(second)).isTrue();
      assertThat(q.stats().redelivered()).isEqualTo(1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#typesWithShared")
  void ackAfterLeaseRanOutStillWorksIfNotRedelivered(String type) {
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      q.enqueue("m");
      Delivery<String> d = q.poll(NOW).orElseThrow();
      advance(Duration.ofMinutes(5));
      assertThat(q.ack(d)).isTrue();
      assertThat(q.poll(NOW)).isEmpty();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#types")
  void nackBacksOffExponentiallyThenDeadLettersAtMaxAttempts(String type) {
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      long id = q.enqueue("poison");
      Delivery<String> d1 = q.poll(NOW).orElseThrow();
      assertThat(q.nack(d1)).isTrue();
      advance(Duration.ofMillis(999));
      assertThat(q.poll(NOW)).as("backoff 1s after attempt 1").isEmpty();
      advance(Duration.ofMillis(1));
      Delivery<String> d2 = q.poll(NOW).orElseThrow();
      assertThat(d2.attempt()).isEqualTo(2);
      q.nack(d2);
      advance(Duration.ofMillis(1999));
      assertThat(q.poll(NOW)).as("backoff 2s after attempt 2").isEmpty();
      advance(Duration.ofMillis(1));
      Delivery<String> d3 = q.poll(NOW).orElseThrow();
      assertThat(d3.attempt()).isEqualTo(3);
      assertThat(q.nack(d3)).isTrue();
      advance(Duration.ofHours(1));
      assertThat(q.poll(NOW)).as("dead-lettered after max-attempts").isEmpty();

      List<DeadLetter<String>> dead = q.deadLetters(0, 10);
      assertThat(dead).hasSize(1);
      assertThat(dead.get(0).id()).isEqualTo(id);
      assertThat(dead.get(0).payload()).isEqualTo("poison");
      assertThat(dead.get(0).attempts()).isEqualTo(3);
      assertThat(dead.get(0).reason()).contains("max-attempts");
      assertThat(dead.get(0).enqueuedAt()).isEqualTo(ManualClock.START);
      assertThat(q.stats().deadLetters()).isEqualTo(1);
      assertThat(q.stats().nacked()).isEqualTo(3);

      assertThat(q.redrive(List.of(id, 12345L))).isEqualTo(1);
      assertThat(q.deadLetters(0, 10)).isEmpty();
      assertThat(q.stats().deadLetters()).isZero();
      Delivery<String> again = q.poll(NOW).orElseThrow();
      assertThat(again.payload()).isEqualTo("poison");
      assertThat(again.attempt()).isEqualTo(1);
      assertThat(again.id()).isNotEqualTo(id);
      assertThat(q.redrive(List.of(id))).as("already redriven").isZero();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#typesWithShared")
  void expiredLeaseOfLastAttemptDeadLettersAndExplicitNackDelay(String type) {
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      q.enqueue("slow");
      q.poll(NOW).orElseThrow();
      for (int attempt = 2; attempt <= 3; attempt++) {
        advance(Duration.ofSeconds(31));
        assertThat(q.poll(NOW).orElseThrow().attempt()).isEqualTo(attempt);
      }
      advance(Duration.ofSeconds(31));
      assertThat(q.poll(NOW)).isEmpty();
      assertThat(q.deadLetters(0, 10))
          .singleElement()
          .satisfies(d -> assertThat(d.reason()).contains("lease expired"));

      q.enqueue("later");
      Delivery<String> d = q.poll(NOW).orElseThrow();
      q.nack(d, Duration.ofSeconds(10));
      advance(Duration.ofSeconds(9));
      assertThat(q.poll(NOW)).isEmpty();
      advance(Duration.ofSeconds(1));
      assertThat(q.poll(NOW)).map(Delivery::payload).contains("later");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#typesWithShared")
  void explicitDeadLetterAndRedriveAll(String type) {
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      q.enqueueAll(List.of("x", "y"));
      for (Delivery<String> d : q.poll(2, NOW)) {
        assertThat(q.deadLetter(d, "bad input " + d.payload())).isTrue();
      }
      assertThat(q.deadLetters(0, 1)).hasSize(1);
      assertThat(q.deadLetters(0, 10))
          .extracting(DeadLetter::reason)
          .containsExactly("bad input x", "bad input y");
      assertThat(q.redriveAll()).isEqualTo(2);
      assertThat(payloads(q.poll(10, NOW))).containsExactly("x", "y");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#types")
  void finishedHeadIsTruncatedFromTheLog(String type) {
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      LogStore log = r.backend("b").log("queue.q");
      q.enqueueAll(IntStream.range(0, 25).mapToObj(i -> "m" + i).collect(Collectors.toList()));
      List<Delivery<String>> ds = q.poll(25, NOW);
      assertThat(ds).hasSize(25);
      // Leave message 15 unfinished: the floor must stop there.
      for (Delivery<String> d : ds) {
        if (!d.payload().equals("m15")) {
          q.ack(d);
        }
      }
      // truncate-every = 10: the first 10 finished messages went; 10..14 wait for the next step.
      assertThat(log.firstOffset()).isEqualTo(ds.get(10).id());
      assertThat(r.backend("b").keyValue("queue.q.state").approximateCount())
          .as("markers below the floor deleted")
          .isEqualTo(15);
      assertThat(q.truncateFinished()).as("floor stops at the unfinished m15").isEqualTo(5);
      assertThat(log.firstOffset()).isEqualTo(ds.get(15).id());
      q.ack(ds.get(15));
      assertThat(q.truncateFinished()).as("the ack moved the floor by 10 and truncated").isZero();
      assertThat(log.firstOffset()).isEqualTo(log.nextOffset());
      q.enqueue("after");
      assertThat(q.poll(NOW)).map(Delivery::payload).contains("after");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#typesWithShared")
  void metricsShowDepthInFlightDeadLettersAndOldestAge(String type) {
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      q.enqueueAll(List.of("a", "b", "c", "d"));
      advance(Duration.ofSeconds(7));
      Delivery<String> a = q.poll(NOW).orElseThrow();
      Delivery<String> b = q.poll(NOW).orElseThrow();
      q.deadLetter(b, "test");
      var g = r.metrics().getGauges();
      assertThat(g.get("cairn.queues.q.depth").getValue()).isEqualTo(2L);
      assertThat(g.get("cairn.queues.q.in-flight").getValue()).isEqualTo(1L);
      assertThat(g.get("cairn.queues.q.dead-letters").getValue()).isEqualTo(1L);
      if (shared()) { // by the server clock, which also moved on in real time
        assertThat((Long) g.get("cairn.queues.q.oldest-age-ms").getValue())
            .isBetween(7000L, 60_000L);
      } else {
        assertThat(g.get("cairn.queues.q.oldest-age-ms").getValue()).isEqualTo(7000L);
      }
      assertThat(r.metrics().getMeters().get("cairn.queues.q.enqueued").getCount()).isEqualTo(4);
      q.ack(a);
      assertThat(r.metrics().getMeters().get("cairn.queues.q.acked").getCount()).isEqualTo(1);
      assertThat(r.metrics().getMeters().get("cairn.queues.q.dead-lettered").getCount())
          .isEqualTo(1);
      q.close();
      assertThat(r.metrics().getGauges()).doesNotContainKey("cairn.queues.q.depth");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#typesWithShared")
  void concurrentProducersAndConsumersDeliverEveryMessageOnce(String type) throws Exception {
    int producers = 8;
    int perProducer = 200;
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      Set<String> seen = ConcurrentHashMap.newKeySet();
      List<String> duplicates = new CopyOnWriteArrayList<>();
      CountDownLatch all = new CountDownLatch(producers * perProducer);
      QueueWorkers workers =
          q.consume(
              4,
              d -> {
                if (!seen.add(d.payload())) {
                  duplicates.add(d.payload());
                }
                all.countDown();
              });
      ExecutorService ex = Executors.newFixedThreadPool(producers);
      try {
        List<Future<?>> fs = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
          int pp = p;
          fs.add(
              ex.submit(
                  () -> {
                    for (int i = 0; i < perProducer; i++) {
                      q.enqueue(pp + ":" + i);
                    }
                  }));
        }
        for (Future<?> f : fs) {
          f.get(60, TimeUnit.SECONDS);
        }
        assertThat(all.await(60, TimeUnit.SECONDS)).isTrue();
      } finally {
        ex.shutdownNow();
        workers.close();
      }
      assertThat(workers.aliveWorkers()).isZero();
      assertThat(duplicates).isEmpty();
      assertThat(seen).hasSize(producers * perProducer);
      long txs = r.metrics().getTimers().get("cairn.backends.b.transaction").getCount();
      assertThat(txs)
          .as("group commit: enqueues, leases and acks share transactions")
          .isLessThan(3L * producers * perProducer);
      assertThat(q.stats().depth()).isZero();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#typesWithShared")
  void consumerHelperNacksFailuresAndStopsOnQueueClose(String type) throws Exception {
    try (PersistenceRegistry r = open(type)) {
      DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8());
      AtomicInteger calls = new AtomicInteger();
      CountDownLatch nacked = new CountDownLatch(1);
      q.enqueue("flaky");
      QueueWorkers w =
          q.consume(
              2,
              d -> {
                calls.incrementAndGet();
                nacked.countDown();
                throw new IllegalStateException("handler failure");
              });
      assertThat(nacked.await(10, TimeUnit.SECONDS)).isTrue();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (q.stats().nacked() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(q.stats().nacked()).isEqualTo(1);
      assertThat(q.stats().depth()).as("waiting for backoff").isEqualTo(1);
      q.close();
      assertThat(w.aliveWorkers()).isZero();
      assertThat(calls.get()).isEqualTo(1);
      assertThatThrownBy(() -> q.enqueue("x")).isInstanceOf(ClosedException.class);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#types")
  void secondOpenOfTheSameQueueIsRefused(String type) {
    try (PersistenceRegistry r = open(type);
        DurableQueue<byte[]> q = DurableQueue.openRaw(r, "q")) {
      assertThatThrownBy(() -> DurableQueue.openRaw(r, "q"))
          .isInstanceOf(PersistenceException.class)
          .hasMessageContaining("already open");
      q.enqueue(new byte[] {1, 2});
      assertThat(q.poll(NOW).orElseThrow().payload()).containsExactly(1, 2);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#typesWithShared")
  void lifecycleListenerOpensConfiguredQueuesAndClosesThem(String type) {
    DurableQueues queues = new DurableQueues();
    DurableQueue<String> q;
    try (PersistenceRegistry r =
        TestBackends.open(type, dir, clock, QUEUE + "cairn.queues.other {}\n", queues)) {
      assertThat(queues.names()).containsExactly("other", "q");
      q = queues.queue("q", Codec.utf8());
      q.enqueue("hello");
      DurableQueue<byte[]> raw = queues.raw("q");
      assertThat(raw.poll(NOW).orElseThrow().payload()).isEqualTo("hello".getBytes());
      q.close(); // a view handed out by DurableQueues: no effect
      raw.stats();
      assertThatThrownBy(() -> queues.queue("qq", Codec.utf8()))
          .hasMessageContaining("did you mean 'q'");
    }
    assertThatThrownBy(() -> q.enqueue("after close")).isInstanceOf(ClosedException.class);
  }

  private static long transactions(PersistenceRegistry r) {
    return r.metrics().getTimers().get("cairn.backends.b.transaction").getCount();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#durableTypes")
  void ackAndPollStoresTheAckAndTheNextLeaseInOneCommit(String type) {
    Delivery<String> b;
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      q.enqueueAll(List.of("a", "b"));
      Delivery<String> a = q.poll(NOW).orElseThrow();
      long before = transactions(r);
      b = q.ackAndPoll(a, NOW).orElseThrow();
      assertThat(transactions(r) - before).as("one commit for ack and lease").isEqualTo(1);
      assertThat(b.payload()).isEqualTo("b");
      assertThat(b.attempt()).isEqualTo(1);
      assertThat(q.ack(a)).as("a is already acked").isFalse();
      assertThat(q.stats().acked()).isEqualTo(1);
      assertThat(q.stats().inFlight()).isEqualTo(1);
      // Nothing left: the ack commits alone and the poll finds nothing.
      assertThat(q.ackAndPoll(b, NOW)).isEmpty();
      assertThat(q.stats().acked()).isEqualTo(2);
      q.enqueue("c");
    }
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      advance(Duration.ofHours(1));
      Delivery<String> c = q.poll(NOW).orElseThrow();
      assertThat(c.payload()).as("acks survive the restart").isEqualTo("c");
      // A lost lease: nothing is acked, the call only polls.
      advance(Duration.ofMinutes(1));
      Delivery<String> again = q.poll(NOW).orElseThrow();
      assertThat(again.attempt()).isEqualTo(2);
      assertThat(q.ackAndPoll(c, NOW)).isEmpty();
      assertThat(q.stats().acked()).isZero();
      assertThat(q.ack(again)).isTrue();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#durableTypes")
  void waitingPollerIsLeasedTheMessageInTheEnqueueCommit(String type) throws Exception {
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      List<Delivery<String>> got = new CopyOnWriteArrayList<>();
      Thread poller = new Thread(() -> q.poll(Duration.ofSeconds(30)).ifPresent(got::add));
      poller.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (poller.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      long before = transactions(r);
      q.enqueue("x");
      poller.join(10_000);
      assertThat(payloads(got)).containsExactly("x");
      assertThat(got.get(0).attempt()).isEqualTo(1);
      assertThat(transactions(r) - before).as("enqueue and lease in one commit").isEqualTo(1);
      assertThat(q.stats().inFlight()).isEqualTo(1);
      assertThat(q.poll(NOW)).as("leased, not delivered twice").isEmpty();
    }
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      assertThat(q.poll(NOW)).as("the stored lease is honoured after restart").isEmpty();
      advance(Duration.ofSeconds(31));
      Delivery<String> d = q.poll(NOW).orElseThrow();
      assertThat(d.payload()).isEqualTo("x");
      assertThat(d.attempt()).as("the handed-off attempt was stored").isEqualTo(2);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#typesWithShared")
  void healthCheckIsRemovedWhenTheQueueCloses(String type) {
    try (PersistenceRegistry r = open(type)) {
      DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8());
      assertThat(r.healthChecks().runHealthCheck("cairn.queues.q").isHealthy()).isTrue();
      q.close();
      assertThat(r.healthChecks().getNames())
          .as("a closed queue leaves no check behind, like a closed cache or route table")
          .doesNotContain("cairn.queues.q");
      DurableQueue<String> again = DurableQueue.open(r, "q", Codec.utf8());
      assertThat(r.healthChecks().runHealthCheck("cairn.queues.q").isHealthy()).isTrue();
      again.close();
      assertThat(r.healthChecks().getNames()).doesNotContain("cairn.queues.q");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#typesWithShared")
  void closingAnOlderOpenLeavesTheNewerQueuesHealthCheck(String type) {
    this.type = type;
    DurableQueues listener = new DurableQueues();
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, QUEUE, listener)) {
      // the listener's queue holds the check; another open's close must not remove it
      if (shared()) {
        DurableQueue<String> second = DurableQueue.open(r, "q", Codec.utf8()); // shared: allowed
        second.close(); // gives the check back to the listener's open queue
        assertThat(r.healthChecks().runHealthCheck("cairn.queues.q").isHealthy()).isTrue();
      } else {
        assertThatThrownBy(() -> DurableQueue.open(r, "q", Codec.utf8()))
            .hasMessageContaining("already open");
        assertThat(r.healthChecks().runHealthCheck("cairn.queues.q").isHealthy()).isTrue();
      }
    }
  }

  @org.junit.jupiter.api.Test
  void sharedQueueIsSharedByTwoOpensInOneProcess() {
    try (PersistenceRegistry r = open(TestBackends.SHARED);
        DurableQueue<String> a = DurableQueue.open(r, "q", Codec.utf8());
        DurableQueue<String> b = DurableQueue.open(r, "q", Codec.utf8())) {
      a.enqueueAll(List.of("1", "2", "3"));
      Delivery<String> one = b.poll(NOW).orElseThrow();
      assertThat(payloads(a.poll(10, NOW))).containsExactly("2", "3");
      assertThat(a.ack(one)).as("settled through another open of the queue").isTrue();
      assertThat(b.stats().inFlight()).as("counts are the whole queue's").isEqualTo(2);
      assertThat(b.truncateFinished()).as("acks delete rows: nothing to truncate").isZero();
    }
  }

  @org.junit.jupiter.api.Test
  void sharedQueueNackBacksOffThenDeadLettersAtMaxAttempts() {
    try (PersistenceRegistry r = open(TestBackends.SHARED);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      long id = q.enqueue("poison");
      Delivery<String> d1 = q.poll(NOW).orElseThrow();
      assertThat(q.nack(d1)).isTrue();
      assertThat(q.poll(NOW)).as("backoff 1s after attempt 1").isEmpty();
      advance(Duration.ofSeconds(1));
      Delivery<String> d2 = q.poll(NOW).orElseThrow();
      assertThat(d2.attempt()).isEqualTo(2);
      assertThat(q.nack(d1)).as("stale").isFalse();
      q.nack(d2, Duration.ofMinutes(10));
      assertThat(q.poll(NOW)).isEmpty();
      advance(Duration.ofMinutes(10));
      Delivery<String> d3 = q.poll(NOW).orElseThrow();
      assertThat(d3.attempt()).isEqualTo(3);
      assertThat(q.nack(d3)).isTrue();
      advance(Duration.ofHours(1));
      assertThat(q.poll(NOW)).as("dead-lettered after max-attempts").isEmpty();
      List<DeadLetter<String>> dead = q.deadLetters(0, 10);
      assertThat(dead)
          .singleElement()
          .satisfies(
              d -> {
                assertThat(d.id()).isEqualTo(id);
                assertThat(d.attempts()).isEqualTo(3);
                assertThat(d.reason()).isEqualTo("max-attempts reached (nack)");
              });
      assertThat(q.stats().nacked()).isEqualTo(3);
      assertThat(q.stats().deadLettered()).isEqualTo(1);
      assertThat(q.redriveAll()).isEqualTo(1);
      assertThat(q.poll(NOW).orElseThrow().attempt()).isEqualTo(1);
    }
  }
}
