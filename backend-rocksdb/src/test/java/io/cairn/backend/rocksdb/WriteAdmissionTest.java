package io.cairn.backend.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link WriteAdmission}: at most the limit of unsynced writes inside RocksDB at once, synced
 * writes never held, {@code unlimited} holding nothing; and the setting read as configured.
 */
class WriteAdmissionTest {
  @TempDir Path dir;

  private static final StoreId KV = new StoreId(StoreKind.KEY_VALUE, "k");

  @Test
  void noMoreThanTheLimitAreInsideAtOnce() throws Exception {
    WriteAdmission admission = new WriteAdmission(2);
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    onThreads(
        8,
        () -> {
          for (int i = 0; i < 2_000; i++) {
            admission.enter();
            try {
              most.accumulateAndGet(inside.incrementAndGet(), Math::max);
              Thread.yield(); // stay inside a while, so others try to come in
              inside.decrementAndGet();
            } finally {
              admission.exit();
            }
          }
          return null;
        });
    assertThat(most.get()).isBetween(1, 2);
  }

  @Test
  void unlimitedHoldsNobody() throws Exception {
    WriteAdmission admission = new WriteAdmission(0);
    CyclicBarrier allInside = new CyclicBarrier(8);
    onThreads(
        8,
        () -> {
          admission.enter();
          try {
            return allInside.await(30, TimeUnit.SECONDS); // fails unless all 8 are inside
          } finally {
            admission.exit();
          }
        });
    assertThat(admission.describe()).isEqualTo("unlimited");
    assertThatThrownBy(() -> new WriteAdmission(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  /** Runs {@code body} on {@code threads} threads at once; fails if any fails or takes a minute. */
  private static void onThreads(int threads, Callable<?> body) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(pool.submit(body));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * The engine's writes: with the one permit taken, an unsynced write waits for it and a synced one
   * (durability full, or asking for more than normal) goes through, since group commit is what
   * shares its fsync.
   */
  @Test
  void unsyncedWritesWaitForAPermitAndSyncedOnesNever() throws Exception {
    for (Durability durability : List.of(Durability.NORMAL, Durability.FULL)) {
      Path d = dir.resolve(durability.name());
      try (RocksStorageEngine e = open(d, durability, "1")) {
        assertThat(e.properties()).containsEntry("max-concurrent-writes", "1");
        ExecutorService pool = Executors.newSingleThreadExecutor();
        CountDownLatch release = new CountDownLatch(1);
        Thread holder =
            new Thread(
                () -> {
                  e.admission().enter();
                  try {
                    release.await();
                  } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                  } finally {
                    e.admission().exit();
                  }
                });
        holder.start();
        try {
          while (e.admission().available() > 0) {
            Thread.onSpinWait(); // until the holder has the permit
          }
          Future<?> synced = pool.submit(() -> put(e, "s", Durability.FULL));
          synced.get(30, TimeUnit.SECONDS); // never held, at either durability
          Future<?> atOpenDurability = pool.submit(() -> put(e, "n", durability));
          if (durability == Durability.FULL) {
            atOpenDurability.get(30, TimeUnit.SECONDS);
          } else {
            assertThatThrownBy(() -> atOpenDurability.get(300, TimeUnit.MILLISECONDS))
                .isInstanceOf(TimeoutException.class);
            release.countDown();
            atOpenDurability.get(30, TimeUnit.SECONDS);
          }
        } finally {
          release.countDown();
          holder.join();
          pool.shutdownNow();
        }
        assertThat(e.get(KV, b("s"))).isEqualTo(b("v"));
        assertThat(e.get(KV, b("n"))).isEqualTo(b("v"));
      }
    }
  }

  @Test
  void autoIsHalfTheProcessorsAndEveryValueIsReadAsWritten() {
    int auto = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    try (RocksStorageEngine e = open(dir.resolve("auto"), Durability.NONE, "auto")) {
      assertThat(e.properties()).containsEntry("max-concurrent-writes", String.valueOf(auto));
    }
    try (RocksStorageEngine e = open(dir.resolve("unl"), Durability.NONE, "unlimited")) {
      assertThat(e.properties()).containsEntry("max-concurrent-writes", "unlimited");
    }
    try (RocksStorageEngine e = open(dir.resolve("n"), Durability.NONE, "3")) {
      assertThat(e.properties()).containsEntry("max-concurrent-writes", "3");
    }
  }

  private RocksStorageEngine open(Path d, Durability durability, String maxWrites) {
    BackendContext ctx =
        BackendContext.builder("adm", RocksDbBackendProvider.TYPE)
            .dataDir(d)
            .durability(durability)
            .config(
                ConfigFactory.parseString("advanced.max-concurrent-writes = \"" + maxWrites + "\""))
            .build();
    return RocksStorageEngine.open(ctx, RocksDbBackendProvider.config(ctx));
  }

  private static void put(RocksStorageEngine e, String key, Durability durability) {
    e.write(List.of(new StorageEngine.Write(KV, b(key), b("v"))), durability);
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
