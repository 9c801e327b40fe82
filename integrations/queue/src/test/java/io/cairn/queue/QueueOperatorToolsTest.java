package io.cairn.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link QueueInspector} and {@link QueuePurge}: what {@code cairn queue ...} builds on. */
class QueueOperatorToolsTest {
  private static final String QUEUE =
      "cairn.queues.q { backend = b, visibility-timeout = 30s, max-attempts = 3,"
          + " backoff-initial = 1s, backoff-max = 4s, truncate-every = 10, prefetch = 4 }\n";

  @TempDir Path dir;
  final ManualClock clock = new ManualClock();

  private PersistenceRegistry open(String type) {
    return TestBackends.open(type, dir, clock, QUEUE);
  }

  /** a..f enqueued; a acked, b leased, c nacked with a delay, d dead-lettered; e, f pending. */
  private static void populate(DurableQueue<String> q) {
    q.enqueueAll(List.of("a", "b", "c", "d", "e", "f"));
    List<Delivery<String>> ds = q.poll(4, Duration.ZERO);
    assertThat(q.ack(ds.get(0))).isTrue();
    assertThat(q.nack(ds.get(2), Duration.ofMinutes(5))).isTrue();
    assertThat(q.deadLetter(ds.get(3), "bad input")).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#types")
  void peekShowsWhatAConsumerWouldGetNextWithoutChangingAnything(String type) {
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      populate(q);
      QueueInspector.Inspection before =
          QueueInspector.inspect(r.backend("b"), "q", 10, true, clock);
      assertThat(before.next()).extracting(QueueInspector.Message::id).containsExactly(4L, 5L);
      assertThat(before.next().get(0).payload()).isEqualTo("e".getBytes(StandardCharsets.UTF_8));
      assertThat(before.next().get(0).payloadBytes()).isEqualTo(1);
      assertThat(before.pending()).isEqualTo(2);
      assertThat(before.leased()).isEqualTo(1);
      assertThat(before.delayed()).isEqualTo(1);
      assertThat(before.finished()).isEqualTo(2);
      assertThat(before.deadLetters()).isEqualTo(1);
      assertThat(before.end()).isEqualTo(6);
      // Looking twice gives the same answer, and the queue still delivers e and f first.
      QueueInspector.Inspection again =
          QueueInspector.inspect(r.backend("b"), "q", 10, false, clock);
      assertThat(again.next()).extracting(QueueInspector.Message::id).containsExactly(4L, 5L);
      assertThat(again.next().get(0).payload()).as("payloads only on request").isNull();
      assertThat(q.poll(2, Duration.ZERO)).extracting(Delivery::payload).containsExactly("e", "f");
      // After the lease of b and the delay of c run out, both are offered again.
      clock.advance(Duration.ofMinutes(10));
      QueueInspector.Inspection later =
          QueueInspector.inspect(r.backend("b"), "q", 10, false, clock);
      assertThat(later.next())
          .extracting(QueueInspector.Message::status)
          .contains("lease-expired", "ready");
      assertThat(QueueInspector.deadLetters(r.backend("b"), "q", 0, 10))
          .singleElement()
          .satisfies(d -> assertThat(d.reason()).isEqualTo("bad input"));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#durableTypes")
  void purgeDropsUnfinishedMessagesDurablyAndTheQueueCarriesOn(String type) {
    try (PersistenceRegistry r = open(type)) {
      try (DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
        populate(q);
        assertThatThrownBy(() -> QueuePurge.purge(r.backend("b"), "q", true, false))
            .as("refused while the queue is open")
            .isInstanceOf(PersistenceException.class)
            .hasMessageContaining("already open");
      }
      QueuePurge.Result result = QueuePurge.purge(r.backend("b"), "q", true, false);
      assertThat(result.messages()).as("b, c, e, f").isEqualTo(4);
      assertThat(result.deadLetters()).isZero();
    }
    try (PersistenceRegistry r = open(type);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      clock.advance(Duration.ofHours(1));
      assertThat(q.poll(10, Duration.ZERO)).as("nothing left after a restart").isEmpty();
      assertThat(q.deadLetters(0, 10)).as("dead letters kept").hasSize(1);
      long id = q.enqueue("g");
      assertThat(id).as("ids are not reused").isEqualTo(6);
      assertThat(q.poll(1, Duration.ZERO)).extracting(Delivery::payload).containsExactly("g");
    }
    try (PersistenceRegistry r = open(type)) {
      assertThat(QueuePurge.purge(r.backend("b"), "q", false, true).deadLetters()).isEqualTo(1);
      assertThat(QueueInspector.inspect(r.backend("b"), "q", 10, false, clock).deadLetters())
          .isZero();
    }
  }
}
