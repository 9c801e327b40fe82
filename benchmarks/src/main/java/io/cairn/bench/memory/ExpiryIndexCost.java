package io.cairn.bench.memory;

import com.typesafe.config.ConfigFactory;
import io.cairn.backend.memory.MemoryBackendProvider;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What the shared base's expiry index costs and saves, on the memory backend (benchmarks/
 * RESULTS-memory.md, "Expiry index"). Not JMH: two timing loops whose figures are orders of
 * magnitude apart, printed as one line each.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.cairn.bench.memory.ExpiryIndexCost purge LABEL
 *   purgeExpired of 100 expired entries in a namespace of 10k / 100k / 400k entries without a TTL:
 *   median ms of 20 rounds (5 more first, dropped)
 * java -cp benchmarks/target/benchmarks.jar io.cairn.bench.memory.ExpiryIndexCost put LABEL
 *   put of 100-byte values over 64 Ki random keys, with and without a TTL, 1 and 2 threads:
 *   ops/s, best of 5 rounds of 200,000 puts
 * </pre>
 */
public final class ExpiryIndexCost {
  private ExpiryIndexCost() {}

  /** A clock the purge run moves forward by hand, so entries expire exactly when it says. */
  private static final class MovableClock extends Clock {
    volatile long millis = 1_767_225_600_000L;

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }

    @Override
    public long millis() {
      return millis;
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 2 || !List.of("purge", "put").contains(args[0])) {
      System.err.println("usage: ExpiryIndexCost purge|put LABEL");
      System.exit(2);
    }
    if (args[0].equals("purge")) {
      purge(args[1]);
    } else {
      put(args[1]);
    }
  }

  private static StorageBackend open(Clock clock) {
    BackendContext.Builder ctx =
        BackendContext.builder("bench", "memory")
            .durability(Durability.NONE)
            .config(
                ConfigFactory.parseString("type = memory, durability = none")
                    .withFallback(ConfigFactory.load().getConfig("cairn.backend-defaults.memory")));
    if (clock != null) {
      ctx.clock(clock);
    }
    return new MemoryBackendProvider().open(ctx.build());
  }

  private static void purge(String label) {
    int expired = 100;
    for (int n : new int[] {10_000, 100_000, 400_000}) {
      MovableClock clock = new MovableClock();
      try (StorageBackend b = open(clock)) {
        KeyValueStore kv = b.keyValue("ns");
        List<KeyValue> batch = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          batch.add(new KeyValue(("k" + i).getBytes(StandardCharsets.UTF_8), new byte[100]));
          if (batch.size() == 1000) {
            kv.putAll(batch);
            batch.clear();
          }
        }
        long[] nanos = new long[25];
        for (int round = 0; round < nanos.length; round++) {
          for (int i = 0; i < expired; i++) {
            byte[] key = ("t" + round + "-" + i).getBytes(StandardCharsets.UTF_8);
            kv.put(key, new byte[100], Duration.ofSeconds(1));
          }
          clock.millis += 2000;
          long t0 = System.nanoTime();
          long removed = kv.purgeExpired();
          nanos[round] = System.nanoTime() - t0;
          if (removed != expired) {
            throw new AssertionError("purgeExpired removed " + removed + ", expected " + expired);
          }
        }
        long[] measured = Arrays.copyOfRange(nanos, 5, nanos.length); // the first 5 warm up
        Arrays.sort(measured);
        System.out.printf(
            "%s N=%d E=%d purgeExpired median %.3f ms (min %.3f, max %.3f)%n",
            label,
            n,
            expired,
            measured[measured.length / 2] / 1e6,
            measured[0] / 1e6,
            measured[measured.length - 1] / 1e6);
      }
    }
  }

  private static void put(String label) throws Exception {
    try (StorageBackend b = open(null)) {
      KeyValueStore kv = b.keyValue("ns");
      byte[][] keys = new byte[65536][];
      for (int i = 0; i < keys.length; i++) {
        keys[i] = ("key-" + i).getBytes(StandardCharsets.UTF_8);
      }
      byte[] value = new byte[100];
      for (int threads : new int[] {1, 2}) {
        for (Duration ttl : new Duration[] {null, Duration.ofHours(1)}) {
          double best = 0;
          for (int round = 0; round < 5; round++) {
            int perThread = 200_000 / threads;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            long t0 = System.nanoTime();
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
              Random random = new Random(t);
              done.add(
                  pool.submit(
                      () -> {
                        for (int i = 0; i < perThread; i++) {
                          kv.put(keys[random.nextInt(keys.length)], value, ttl);
                        }
                      }));
            }
            for (Future<?> f : done) {
              f.get();
            }
            best = Math.max(best, perThread * threads / ((System.nanoTime() - t0) / 1e9));
            pool.shutdown();
          }
          System.out.printf(
              "%s put threads=%d ttl=%s best %.0f ops/s%n",
              label, threads, ttl == null ? "none" : ttl, best);
        }
      }
    }
  }
}
