package io.cairn.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Pending and in-flight messages across close and reopen, on durable backends. */
class QueueRestartTest {
  private static final String QUEUE =
      "cairn.queues.q { backend = b, visibility-timeout = 30s, max-attempts = 3,"
          + " truncate-every = 1000 }\n";

  @TempDir Path dir;
  final ManualClock clock = new ManualClock();

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#durableTypes")
  void pendingDeliveredExpiredLeasesRedeliveredAckedNeverAgain(String type) {
    long inFlightId;
    long nackedId;
    long deadId;
    DurableQueues queues = new DurableQueues();
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, QUEUE, queues)) {
      DurableQueue<String> q = queues.queue("q", Codec.utf8());
      q.enqueueAll(List.of("acked", "in-flight", "nacked", "dead", "p1", "p2"));
      List<Delivery<String>> ds = q.poll(4, Duration.ZERO);
      q.ack(ds.get(0));
      inFlightId = ds.get(1).id();
      q.nack(ds.get(2), Duration.ofSeconds(5));
      deadId = ds.get(3).id();
      q.deadLetter(ds.get(3), "kept");
      // Closing here is like a crash for in-flight messages: nothing releases their lease.
    }
    DurableQueues reopened = new DurableQueues();
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, QUEUE, reopened)) {
      DurableQueue<String> q = reopened.queue("q", Codec.utf8());
      assertThat(q.stats().deadLetters()).isEqualTo(1);
      assertThat(q.deadLetters(0, 10)).extracting(DeadLetter::id).containsExactly(deadId);
      assertThat(q.stats().inFlight()).isEqualTo(1);
      List<Delivery<String>> pending = q.poll(10, Duration.ZERO);
      assertThat(pending.stream().map(Delivery::payload).collect(Collectors.toList()))
          .as("never-delivered messages, in order; the lease and backoff are honoured")
          .containsExactly("p1", "p2");
      clock.advance(Duration.ofSeconds(5));
      Delivery<String> nacked = q.poll(Duration.ZERO).orElseThrow();
      assertThat(nacked.payload()).isEqualTo("nacked");
      assertThat(nacked.attempt()).as("attempt count survived").isEqualTo(2);
      nackedId = nacked.id();
      clock.advance(Duration.ofSeconds(26));
      Delivery<String> expired = q.poll(Duration.ZERO).orElseThrow();
      assertThat(expired.id()).isEqualTo(inFlightId);
      assertThat(expired.payload()).isEqualTo("in-flight");
      assertThat(expired.attempt()).isEqualTo(2);
      q.ack(expired);
      q.ack(nacked);
      for (Delivery<String> d : pending) {
        q.ack(d);
      }
      clock.advance(Duration.ofHours(1));
      assertThat(q.poll(Duration.ZERO)).isEmpty();
    }
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, QUEUE);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      clock.advance(Duration.ofHours(1));
      assertThat(q.poll(10, Duration.ZERO)).as("acked messages never come back").isEmpty();
      assertThat(q.stats().depth()).isZero();
      assertThat(q.stats().deadLetters()).isEqualTo(1);
      assertThat(nackedId).isNotEqualTo(inFlightId);
      // Closing stored the floor: the finished head is gone from the log.
      assertThat(r.backend("b").log("queue.q").firstOffset()).isEqualTo(6);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#durableTypes")
  void lastAttemptInFlightAtRestartIsDeadLetteredWhenItsLeaseRunsOut(String type) {
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, QUEUE);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      q.enqueue("crashes-the-consumer");
      for (int i = 0; i < 3; i++) {
        q.poll(Duration.ZERO).orElseThrow();
        clock.advance(Duration.ofSeconds(10));
        if (i < 2) {
          clock.advance(Duration.ofSeconds(21));
        }
      }
    }
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, QUEUE);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      assertThat(q.poll(Duration.ZERO)).isEmpty();
      clock.advance(Duration.ofSeconds(21));
      assertThat(q.poll(Duration.ZERO)).isEmpty();
      assertThat(q.deadLetters(0, 10))
          .singleElement()
          .satisfies(
              d -> {
                assertThat(d.attempts()).isEqualTo(3);
                assertThat(d.payload()).isEqualTo("crashes-the-consumer");
              });
    }
  }

  /**
   * Regression (found by the crash loop): after a restart, finished messages whose markers lie
   * ahead of the read cursor must stay finished when truncation deletes those markers.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#durableTypes")
  void truncationPastTheReadCursorAfterRestartDoesNotResurrectAckedMessages(String type) {
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, QUEUE);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      q.enqueueAll(List.of("m0", "m1", "m2", "m3", "m4"));
      List<Delivery<String>> ds = q.poll(5, Duration.ZERO);
      for (int i = 1; i < 5; i++) {
        q.ack(ds.get(i));
      }
    }
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, QUEUE);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      clock.advance(Duration.ofSeconds(31));
      Delivery<String> m0 = q.poll(Duration.ZERO).orElseThrow();
      assertThat(m0.payload()).isEqualTo("m0");
      q.ack(m0);
      assertThat(q.truncateFinished()).isEqualTo(5);
      assertThat(q.poll(10, Duration.ZERO)).isEmpty();
      assertThat(q.stats().depth()).isZero();
      q.enqueue("m5");
      assertThat(q.poll(10, Duration.ZERO)).extracting(Delivery::payload).containsExactly("m5");
    }
  }
}
