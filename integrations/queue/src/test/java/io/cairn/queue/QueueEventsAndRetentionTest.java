package io.cairn.queue;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The queue's part in operations: a recovery event on open (cairn.events), and a retention floor
 * that keeps background log retention off the queue's own log even when it is named there.
 */
class QueueEventsAndRetentionTest {
  @TempDir Path dir;
  private final ManualClock clock = new ManualClock();

  @Test
  void recoveryIsAnEventAndRetentionNeverTrimsTheQueuesLog() throws Exception {
    String conf =
        "cairn.events { sink = file, file = events.jsonl }\n"
            + "cairn.backends.b { type = memory, maintenance { retention-interval = 1m,"
            + " retention { \"queue.q\" { max-records = 1 } } } }\n"
            + "cairn.queues.q { backend = b }\n";
    DurableQueues queues = new DurableQueues();
    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .clock(clock)
            .baseDirectory(dir)
            .backgroundMaintenance(false)
            .listener(queues)
            .open(ConfigFactory.parseString(conf))) {
      DurableQueue<String> q = queues.queue("q", Codec.utf8());
      q.enqueueAll(List.of("m1", "m2", "m3"));
      clock.advance(Duration.ofMinutes(1));
      assertThat(r.maintenance("b").runDue()).isEqualTo(1);
      assertThat(r.backend("b").log("queue.q").firstOffset()).isZero();
      assertThat(q.poll(10, Duration.ZERO)).hasSize(3);
    }
    String events = Files.readString(dir.resolve("events.jsonl"), StandardCharsets.UTF_8);
    assertThat(events)
        .contains("\"type\":\"recovery\",\"backend\":\"b\",\"subsystem\":\"queue\",\"name\":\"q\"");
    assertThat(events).doesNotContain("\"type\":\"retention\"").doesNotContain("m1");
  }
}
