package io.cairn.queue;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Producers and consumers (with nacks and abandoned leases, real clock) on one queue, then the
 * registry is closed without closing the queue (no final truncation, leases left behind) and a
 * reopened queue drains: every enqueued message was delivered or dead-lettered.
 */
class QueueStressRestartTest {
  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.queue.TestBackends#durableTypes")
  void everyMessageIsDeliveredAcrossAnUncleanRestart(String type) throws Exception {
    Set<Long> enq = ConcurrentHashMap.newKeySet();
    Set<Long> del = ConcurrentHashMap.newKeySet();
    PersistenceRegistry r0 =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(ConfigFactory.parseString(QueueCrashChild.config(type, dir)));
    DurableQueue<String> q0 = DurableQueue.open(r0, "q", Codec.utf8());
    {
      DurableQueue<String> q = q0;
      AtomicBoolean stop = new AtomicBoolean();
      List<Thread> ts = new ArrayList<>();
      for (int p = 0; p < 3; p++) {
        int pp = p;
        ts.add(
            new Thread(
                () -> {
                  Random random = new Random(pp);
                  int n = 0;
                  while (!stop.get()) {
                    if (random.nextInt(4) == 0) {
                      enq.addAll(q.enqueueAll(List.of("a" + n++, "b" + n++, "c" + n++)));
                    } else {
                      enq.add(q.enqueue("x" + n++));
                    }
                  }
                }));
      }
      for (int c = 0; c < 3; c++) {
        int cc = c;
        ts.add(
            new Thread(
                () -> {
                  Random random = new Random(100 + cc);
                  while (!stop.get()) {
                    for (Delivery<String> d : q.poll(4, Duration.ofMillis(50))) {
                      del.add(d.id());
                      int dice = random.nextInt(10);
                      if (dice == 0) {
                        q.nack(d, Duration.ZERO);
                      } else if (dice != 1) {
                        q.ack(d);
                      }
                    }
                  }
                }));
      }
      ts.forEach(Thread::start);
      Thread.sleep(1500);
      stop.set(true);
      for (Thread t : ts) {
        t.join();
      }
      System.out.println("before crash " + q.stats());
    }
    r0.close(); // the queue is not closed: no final truncation, leases stay, like a kill
    try (PersistenceRegistry r =
            PersistenceRegistry.builder()
                .baseDirectory(dir)
                .open(ConfigFactory.parseString(QueueCrashChild.config(type, dir)));
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
      System.out.println("after restart " + q.stats());
      long deadline = System.currentTimeMillis() + 20000;
      while (System.currentTimeMillis() < deadline) {
        List<Delivery<String>> ds = q.poll(64, Duration.ofMillis(200));
        for (Delivery<String> d : ds) {
          del.add(d.id());
          q.ack(d);
        }
        if (ds.isEmpty() && q.stats().depth() == 0 && q.stats().inFlight() == 0) {
          break;
        }
      }
      for (DeadLetter<String> d : q.deadLetters(0, 100000)) {
        del.add(d.id());
      }
      TreeSet<Long> missing = new TreeSet<>(enq);
      missing.removeAll(del);
      System.out.println(
          "enqueued " + enq.size() + " delivered " + del.size() + " stats " + q.stats());
      assertThat(missing).isEmpty();
    }
  }
}
