package io.cairn.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.backend.postgres.PostgresTestServer;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.crash.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three consumer processes ({@link SharedQueueConsumerChild}) on one shared queue on one PostgreSQL
 * database: every message is acked exactly once, by exactly one consumer, although one consumer is
 * killed with SIGKILL while it holds leases; those are redelivered to the others once the
 * visibility timeout (2 s) runs out. Messages: {@code -DsharedQueueMessages} (default 20,000).
 */
class SharedQueueMultiProcessTest {
  private static final String QUEUE =
      "cairn.queues.q { backend = b, visibility-timeout = 2s, max-attempts = 100 }\n";

  @TempDir Path dir;

  @Test
  void threeProcessesAckEveryMessageExactlyOnceAcrossAKill9() throws Exception {
    int n = Integer.getInteger("sharedQueueMessages", 20_000);
    Set<Long> enqueued = new HashSet<>();
    try (PersistenceRegistry r =
            TestBackends.open(TestBackends.SHARED, dir, Clock.systemUTC(), QUEUE);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      for (int from = 0; from < n; from += 1000) {
        List<String> batch = new ArrayList<>();
        for (int i = from; i < Math.min(n, from + 1000); i++) {
          batch.add("m" + i);
        }
        enqueued.addAll(q.enqueueAll(batch));
      }
    }
    assertThat(enqueued).hasSize(n);
    String hocon =
        "cairn.backends.b { "
            + PostgresTestServer.shared().backendConfig(TestBackends.schema(dir), "normal")
            + ", pool-size = 3 }\n"
            + QUEUE;
    String[] roles = {"victim", "consumer", "consumer"};
    List<Path> files = new ArrayList<>();
    List<ChildJvm> children = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        Path f = dir.resolve("acks-" + i + ".txt");
        files.add(f);
        children.add(
            ChildJvm.start(
                SharedQueueConsumerChild.class,
                hocon,
                f.toString(),
                roles[i],
                String.valueOf(Math.min(500, n / 10))));
      }
      ChildJvm victim = children.get(0);
      String holding =
          victim.awaitLine(
              l -> l.startsWith("HOLDING") || l.startsWith("FAILED") || l.startsWith("DONE"),
              Duration.ofMinutes(3));
      assertThat(holding).as("victim: %s", victim.output()).startsWith("HOLDING");
      assertThat(Integer.parseInt(holding.substring(8)))
          .as("the victim holds leases when it is killed")
          .isPositive();
      victim.killHard(); // SIGKILL: no shutdown hook, no close, its leases stay on the server
      for (ChildJvm c : children.subList(1, 3)) {
        String line =
            c.awaitLine(l -> l.startsWith("DONE") || l.startsWith("FAILED"), Duration.ofMinutes(5));
        assertThat(line).as("consumer %s: %s", c, c.output()).startsWith("DONE");
      }
    } finally {
      for (ChildJvm c : children) {
        c.close();
      }
    }

    Map<Long, Integer> ackedBy = new HashMap<>();
    List<String> twice = new ArrayList<>();
    Set<Long> victimLeasedNotAcked = new HashSet<>();
    List<String> leasedWhileHeld = new ArrayList<>();
    int redelivered = 0;
    for (int i = 0; i < 3; i++) {
      Set<Long> leased = new HashSet<>();
      for (String line : Files.readAllLines(files.get(i))) {
        String[] p = line.split(" ");
        long id = Long.parseLong(p[1]);
        if (p[0].equals("L")) {
          leased.add(id);
          if (Integer.parseInt(p[2]) > 1) {
            redelivered++;
          }
        } else if (p[0].equals("A")) {
          Integer before = ackedBy.put(id, i);
          if (before != null) {
            twice.add(id + " by " + before + " and " + i);
          }
          leased.remove(id);
        } else if (p[0].equals("S") && p[2].equals("HELD")) {
          leasedWhileHeld.add(line + " (consumer " + i + ")");
        }
      }
      if (i == 0) {
        victimLeasedNotAcked.addAll(leased);
      }
    }
    assertThat(leasedWhileHeld)
        .as("acks refused while the consumer's lease still held: leased to two at once")
        .isEmpty();
    assertThat(twice).as("messages acked twice").isEmpty();
    Set<Long> missing = new HashSet<>(enqueued);
    missing.removeAll(ackedBy.keySet());
    assertThat(missing).as("messages never acked").isEmpty();
    assertThat(ackedBy.keySet()).as("acked ids are the enqueued ids").isEqualTo(enqueued);
    assertThat(victimLeasedNotAcked).as("leases the victim held when killed").isNotEmpty();
    for (long id : victimLeasedNotAcked) {
      assertThat(ackedBy.get(id)).as("message %d redelivered to another consumer", id).isNotZero();
    }
    assertThat(redelivered).isGreaterThanOrEqualTo(victimLeasedNotAcked.size());
    try (PersistenceRegistry r =
            TestBackends.open(TestBackends.SHARED, dir, Clock.systemUTC(), QUEUE);
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      QueueStats s = q.stats();
      assertThat(s.depth() + s.inFlight() + s.deadLetters()).as("queue empty").isZero();
    }
  }
}
