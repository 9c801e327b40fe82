package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Stress for issue 20 item 1 on every backend: one writer puts and invalidates a few hot keys while
 * readers get (with a loader) and getIfPresent them, with an L1 of two entries so that reads keep
 * going to L2. Every value carries a stamp: a put's is its write number; a loaded value's is the
 * key's write number when the loader started. After the writer's put or invalidate number {@code n}
 * of a key returned, no read that starts later may answer a stamp below {@code n}.
 *
 * <p>Runs {@code -DcacheStressMillis} (default 2000) per backend.
 */
class CacheStaleReadStressTest {
  private static final int KEYS = 4;
  private static final int READERS = 3;
  private static final long MILLIS = Long.getLong("cacheStressMillis", 2000);

  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#types")
  void noReadAnswersAValueOlderThanAFinishedWrite(String type) throws Exception {
    String conf = "cairn.cache.c { backend = b, ttl = 10m, l1.max-entries = 2 }\n";
    try (PersistenceRegistry r = TestBackends.open(type, dir, Clock.systemUTC(), conf);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      AtomicLongArray started = new AtomicLongArray(KEYS); // write number begun, per key
      AtomicLongArray finished = new AtomicLongArray(KEYS); // write number returned, per key
      AtomicBoolean stop = new AtomicBoolean();
      ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
      AtomicLong reads = new AtomicLong();
      AtomicLong writes = new AtomicLong();
      ExecutorService exec = Executors.newFixedThreadPool(READERS + 1);
      try {
        List<Future<?>> tasks = new ArrayList<>();
        tasks.add(
            exec.submit(
                () -> {
                  ThreadLocalRandom rnd = ThreadLocalRandom.current();
                  while (!stop.get()) {
                    int k = rnd.nextInt(KEYS);
                    long n = started.incrementAndGet(k);
                    if (rnd.nextInt(3) == 0) {
                      c.put(key(k), "p" + n);
                    } else {
                      c.invalidate(key(k));
                    }
                    finished.set(k, n);
                    writes.incrementAndGet();
                  }
                }));
        for (int i = 0; i < READERS; i++) {
          tasks.add(
              exec.submit(
                  () -> {
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    while (!stop.get()) {
                      int k = rnd.nextInt(KEYS);
                      long floor = finished.get(k);
                      String v =
                          rnd.nextInt(4) == 0
                              ? c.getIfPresent(key(k))
                              : c.get(key(k), kk -> "l" + started.get(k));
                      reads.incrementAndGet();
                      if (v != null && Long.parseLong(v.substring(1)) < floor) {
                        violations.add(
                            key(k) + ": read " + v + " after write " + floor + " had returned");
                      }
                    }
                  }));
        }
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(MILLIS);
        while (System.nanoTime() < end && violations.isEmpty()) {
          Thread.sleep(20);
        }
        stop.set(true);
        for (Future<?> f : tasks) {
          f.get(2, TimeUnit.MINUTES);
        }
      } finally {
        stop.set(true);
        exec.shutdownNow();
      }
      System.out.printf(
          "stale-read stress on %s: %d reads, %d writes in %d ms, %d violations%n",
          type, reads.get(), writes.get(), MILLIS, violations.size());
      assertThat(reads.get()).as("reads done").isPositive();
      assertThat(writes.get()).as("writes done").isPositive();
      assertThat(violations)
          .as("stale reads on %s (%d reads, %d writes)", type, reads.get(), writes.get())
          .isEmpty();
    }
  }

  private static String key(int k) {
    return "k" + k;
  }
}
