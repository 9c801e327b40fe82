package io.cairn.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.cairn.backend.postgres.PostgresTestServer;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageEngineException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shared queue while the PostgreSQL server is stopped and started again under running consumers:
 * during the outage every operation fails with the backend's retriable "unavailable" exception;
 * afterwards the same queue object resumes by itself; no acked message comes back (none is acked
 * twice), and every message is acked, except that an ack whose commit was cut off by the outage has
 * an unknown outcome: such a message is either acked (and gone) or redelivered, never both.
 */
class SharedQueueServerRestartTest {
  private static final String QUEUE =
      "cairn.queues.q { backend = b, visibility-timeout = 2s, max-attempts = 100 }\n";

  @TempDir Path dir;

  @Test
  void consumersSurviveAServerRestartWithNothingAckedLostOrAckedTwice() throws Exception {
    Assumptions.assumeTrue(
        PostgresTestServer.shared().managed(),
        "the server at -DpgTestUrl is not stopped and started by the tests");
    int n = 3000;
    try (PersistenceRegistry r =
            TestBackends.open(
                TestBackends.SHARED,
                dir,
                Clock.systemUTC(),
                QUEUE + "cairn.backends.b { connect-timeout = 2s, pool-size = 4 }\n");
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      List<Long> ids = new ArrayList<>();
      for (int from = 0; from < n; from += 500) {
        List<String> batch = new ArrayList<>();
        for (int i = from; i < from + 500; i++) {
          batch.add("m" + i);
        }
        ids.addAll(q.enqueueAll(batch));
      }
      Map<Long, Boolean> acked = new ConcurrentHashMap<>();
      Set<Long> uncertain = ConcurrentHashMap.newKeySet();
      List<String> ackedTwice = new CopyOnWriteArrayList<>();
      List<Throwable> unexpected = new CopyOnWriteArrayList<>();
      AtomicInteger retriableFailures = new AtomicInteger();
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> consumers = new ArrayList<>();
      for (int t = 0; t < 3; t++) {
        Thread th =
            new Thread(
                () -> {
                  while (!stop.get()) {
                    List<Delivery<String>> batch;
                    try {
                      batch = q.poll(20, Duration.ofMillis(100));
                    } catch (StorageEngineException e) {
                      retriable(e, retriableFailures, unexpected);
                      continue;
                    }
                    for (Delivery<String> d : batch) {
                      try {
                        if (q.ack(d) && acked.put(d.id(), true) != null) {
                          ackedTwice.add(String.valueOf(d.id()));
                        }
                      } catch (StorageEngineException e) {
                        uncertain.add(d.id()); // the commit may or may not have happened
                        retriable(e, retriableFailures, unexpected);
                      }
                      pause(2); // keep the consumers running across the outage
                    }
                  }
                });
        th.start();
        consumers.add(th);
      }
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (acked.size() < n / 4 && System.nanoTime() < deadline) {
        pause(20);
      }
      assertThat(acked.size()).as("consumers running before the outage").isGreaterThan(0);
      int ackedBefore = acked.size();
      PostgresTestServer.shared().stop();
      try {
        List<Supplier<Object>> ops =
            List.of(
                () -> q.enqueue("during"),
                () -> q.poll(1, Duration.ZERO),
                () -> q.stats(),
                () -> q.deadLetters(0, 10));
        for (Supplier<Object> op : ops) {
          Throwable e = catchThrowable(op::get);
          assertThat(e)
              .as("an operation while the server is down")
              .isInstanceOf(StorageEngineException.class)
              .hasMessageContaining("unavailable")
              .hasMessageContaining("Retriable");
          assertThat(e.getClass().getSimpleName()).isEqualTo("PostgresUnavailableException");
        }
        pause(1000); // consumers keep failing retriably meanwhile
      } finally {
        PostgresTestServer.shared().start();
      }
      while (acked.size() + uncertain.size() < n && System.nanoTime() < deadline) {
        pause(50);
      }
      // let redeliveries of uncertain acks (if they did not commit) come through
      long settle = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < settle) {
        QueueStats s = statsWhenUp(q);
        if (s != null && s.depth() == 0 && s.inFlight() == 0) {
          break;
        }
        pause(100);
      }
      stop.set(true);
      for (Thread th : consumers) {
        th.join(30_000);
      }
      assertThat(unexpected).as("failures other than the outage").isEmpty();
      assertThat(retriableFailures.get()).as("consumers saw the outage").isPositive();
      assertThat(ackedTwice).as("acked twice (an acked message came back)").isEmpty();
      Set<Long> missing = new HashSet<>(ids);
      missing.removeAll(acked.keySet());
      missing.removeAll(uncertain);
      assertThat(missing).as("never acked").isEmpty();
      assertThat(acked.size()).isGreaterThan(ackedBefore);
      QueueStats s = q.stats();
      assertThat(s.depth() + s.inFlight() + s.deadLetters()).as("queue drained").isZero();
    }
  }

  private static QueueStats statsWhenUp(DurableQueue<String> q) {
    try {
      return q.stats();
    } catch (StorageEngineException e) {
      return null;
    }
  }

  private static void retriable(
      StorageEngineException e, AtomicInteger count, List<Throwable> unexpected) {
    if (e.getMessage().contains("unavailable") && e.getMessage().contains("Retriable")) {
      count.incrementAndGet();
      pause(100);
    } else {
      unexpected.add(e);
    }
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
