package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.Histogram;
import com.codahale.metrics.MetricRegistry;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.spi.BackendContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Group commit at {@code durability = normal}: concurrent autocommit writes share one transaction
 * (as at {@code full}), each caller's write is visible when its call returns and survives a clean
 * reopen, and a write that fails inside a batch fails only its own caller.
 */
class GroupCommitNormalTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private TestBackends.Direct open(MetricRegistry metrics) {
    return TestBackends.Direct.open(
        BackendContext.builder("main", "sqlite")
            .config(ConfigFactory.load().getConfig("cairn.backend-defaults.sqlite"))
            .dataDir(dir)
            .durability(Durability.NORMAL)
            .metrics(metrics)
            .build());
  }

  @Test
  void concurrentPutsShareCommitsAndEachIsVisibleAndKept() throws Exception {
    int threads = 8;
    int perThread = 200;
    MetricRegistry metrics = new MetricRegistry();
    try (TestBackends.Direct be = open(metrics)) {
      KeyValueStore kv = be.keyValue("g");
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int id = t;
        done.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < perThread; i++) {
                    byte[] k = b(id + ":" + i);
                    kv.put(k, b("v" + i));
                    // visible to a read the moment the put returned
                    assertThat(kv.get(k)).isEqualTo(b("v" + i));
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : done) {
        f.get(120, TimeUnit.SECONDS);
      }
      pool.shutdown();
      Histogram batches =
          metrics.getHistograms().entrySet().stream()
              .filter(e -> e.getKey().endsWith(".sqlite.commit-batch-size"))
              .map(java.util.Map.Entry::getValue)
              .findFirst()
              .orElseThrow();
      assertThat(batches.getSnapshot().getMax()).as("largest group commit").isGreaterThan(1);
    }
    try (TestBackends.Direct be = TestBackends.direct(dir, "", Durability.NORMAL)) {
      KeyValueStore kv = be.keyValue("g");
      for (int t = 0; t < threads; t++) {
        for (int i = 0; i < perThread; i++) {
          assertThat(kv.get(b(t + ":" + i))).isEqualTo(b("v" + i));
        }
      }
    }
  }

  @Test
  void aFailingWriteInABatchFailsOnlyItsCaller() throws Exception {
    try (TestBackends.Direct be = TestBackends.direct(dir, "", Durability.NORMAL)) {
      KeyValueStore kv = be.keyValue("g");
      ExecutorService pool = Executors.newFixedThreadPool(8);
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> good = new ArrayList<>();
      List<Future<?>> bad = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int id = t;
        good.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < 100; i++) {
                    kv.put(b(id + ":" + i), b("v"));
                  }
                  return null;
                }));
        bad.add(
            pool.submit(
                () -> {
                  start.await();
                  for (int i = 0; i < 100; i++) {
                    int n = i;
                    assertThatThrownBy(
                            () ->
                                be.writer()
                                    .submit(
                                        true,
                                        "test: a bad write",
                                        "kv:g",
                                        s -> {
                                          throw new SQLException("refused by the test " + n);
                                        }))
                        .isInstanceOf(PersistenceException.class);
                  }
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : good) {
        f.get(120, TimeUnit.SECONDS); // no good write failed
      }
      for (Future<?> f : bad) {
        f.get(120, TimeUnit.SECONDS); // every bad write failed, to its own caller
      }
      pool.shutdown();
      for (int t = 0; t < 8; t++) {
        for (int i = 0; i < 100; i++) {
          assertThat(kv.get(b(t + ":" + i))).isEqualTo(b("v"));
        }
      }
    }
  }
}
