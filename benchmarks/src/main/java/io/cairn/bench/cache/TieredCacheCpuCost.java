package io.cairn.bench.cache;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.cache.TieredCache;
import io.cairn.persistence.Codec;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The L2 and L3 hits of {@link TieredCachePairedBenchmark} (same set-up: {@code tiers = [l1, fast,
 * main]}, fast = RocksDB, main = SQLite, durability {@code none}, 16,384 keys, 100-byte values, L1
 * of one entry; for L3 fast is bounded to one entry) beside the raw engine's get on the tier's
 * namespace, counted in <b>CPU time of the calling thread per operation</b>, in interleaved rounds
 * (l2 hit, fast get, fast getEntry, l3 hit, main get, main getEntry, ...), so that load and drift
 * hit every row alike: a descheduled thread accrues no CPU time. This is what survives the shared
 * 2-core machine; JMH's sample-mode percentiles (the measure) do not.
 *
 * <p>Left out: work on other threads (the L3 hit's upward fill of fast runs on the cache's fill
 * thread; it is printed separately as the process's CPU per operation, all threads, which also
 * holds JIT and GC).
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar
 * io.cairn.bench.cache.TieredCacheCpuCost [rounds] [opsPerRound] [rows]} (defaults 16 50000, every
 * row; rows: a comma-separated subset, e.g. {@code "l2 hit"} to profile one); the first quarter of
 * the rounds is warm-up. Results: benchmarks/RESULTS-cache-tiers.md.
 */
public final class TieredCacheCpuCost {
  private static final int KEYS = 1 << 14;
  private static final int MASK = KEYS - 1;
  private static final String[] ROWS = {
    "l2 hit", "fast get", "fast getEntry", "l3 hit", "main get", "main getEntry"
  };

  private TieredCacheCpuCost() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 16;
    int ops = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
    // a subset of the rows, e.g. "l2 hit" alone under a profiler
    List<String> only = args.length > 2 ? List.of(args[2].split(",")) : List.of(ROWS);
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    Path dir = Files.createTempDirectory("cairn-cache-cpu");
    Random random = new Random(42);
    String[] keys = new String[KEYS];
    byte[][] keyBytes = new byte[KEYS][];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = "key:" + random.nextInt(Integer.MAX_VALUE) + ":" + i;
      keyBytes[i] = keys[i].getBytes(StandardCharsets.UTF_8);
    }
    String value = "v".repeat(100);
    PersistenceRegistry r2 = open(dir.resolve("l2"), false);
    PersistenceRegistry r3 = open(dir.resolve("l3"), true);
    TieredCache<String, String> c2 = TieredCache.open(r2, "bench", Codec.utf8(), Codec.utf8());
    TieredCache<String, String> c3 = TieredCache.open(r3, "bench", Codec.utf8(), Codec.utf8());
    KeyValueStore fast = r2.backend("fast").keyValue("cache.bench");
    KeyValueStore main = r3.backend("main").keyValue("cache.bench");
    Map<String, List<double[]>> samples = new LinkedHashMap<>();
    try {
      for (int i = 0; i < KEYS; i++) {
        c2.put(keys[i], value);
        c3.put(keys[i], value);
      }
      int warm = Math.max(1, rounds / 4);
      long sink = 0;
      for (int round = 0; round < rounds; round++) {
        for (String row : ROWS) {
          if (!only.contains(row)) {
            continue;
          }
          int next = random.nextInt(KEYS);
          long proc0 = os.getProcessCpuTime();
          long wall0 = System.nanoTime();
          long cpu0 = mx.getCurrentThreadCpuTime();
          switch (row) {
            case "l2 hit" -> {
              for (int i = 0; i < ops; i++) {
                sink += c2.getIfPresent(keys[next++ & MASK]).length();
              }
            }
            case "fast get" -> {
              for (int i = 0; i < ops; i++) {
                sink += fast.get(keyBytes[next++ & MASK]).length;
              }
            }
            case "fast getEntry" -> {
              for (int i = 0; i < ops; i++) {
                sink += fast.getEntry(keyBytes[next++ & MASK]).get().value().length;
              }
            }
            case "l3 hit" -> {
              for (int i = 0; i < ops; i++) {
                sink += c3.getIfPresent(keys[next++ & MASK]).length();
              }
            }
            case "main get" -> {
              for (int i = 0; i < ops; i++) {
                sink += main.get(keyBytes[next++ & MASK]).length;
              }
            }
            default -> {
              for (int i = 0; i < ops; i++) {
                sink += main.getEntry(keyBytes[next++ & MASK]).get().value().length;
              }
            }
          }
          long cpu = mx.getCurrentThreadCpuTime() - cpu0;
          long wall = System.nanoTime() - wall0;
          long proc = os.getProcessCpuTime() - proc0;
          if (round >= warm) {
            samples
                .computeIfAbsent(row, x -> new ArrayList<>())
                .add(new double[] {cpu / (double) ops, wall / (double) ops, proc / (double) ops});
          }
        }
      }
      System.out.println("(sink " + (sink & 1) + ") rounds=" + rounds + " ops/round=" + ops);
      System.out.println(
          "| row | thread CPU ns/op (median) | min | max | wall ns/op (median) | process CPU ns/op"
              + " (median) |");
      System.out.println("|---|---:|---:|---:|---:|---:|");
      for (String row : ROWS) {
        List<double[]> s = samples.get(row);
        if (s == null) {
          continue;
        }
        System.out.printf(
            Locale.ROOT,
            "| %s | %.0f | %.0f | %.0f | %.0f | %.0f |%n",
            row,
            median(s, 0),
            min(s, 0),
            max(s, 0),
            median(s, 1),
            median(s, 2));
      }
      if (samples.size() < ROWS.length) {
        return;
      }
      System.out.printf(
          Locale.ROOT,
          "ratios (thread CPU, medians): l2 hit vs fast get %.2f, vs fast getEntry %.2f; l3 hit vs"
              + " main get %.2f, vs main getEntry %.2f%n",
          median(samples.get("fast get"), 0) / median(samples.get("l2 hit"), 0),
          median(samples.get("fast getEntry"), 0) / median(samples.get("l2 hit"), 0),
          median(samples.get("main get"), 0) / median(samples.get("l3 hit"), 0),
          median(samples.get("main getEntry"), 0) / median(samples.get("l3 hit"), 0));
    } finally {
      c2.close();
      c3.close();
      r2.close();
      r3.close();
      io.cairn.bench.BenchFiles.deleteTree(dir);
    }
  }

  private static PersistenceRegistry open(Path dir, boolean l3) {
    return PersistenceRegistry.open(
        ConfigFactory.parseString(
            "cairn.backends.fast { type = rocksdb, durability = none, data-dir = "
                + ConfigUtil.quoteString(dir.resolve("fast").toString())
                + " }\n"
                + "cairn.backends.main { type = sqlite, durability = none, data-dir = "
                + ConfigUtil.quoteString(dir.resolve("main").toString())
                + " }\n"
                + "cairn.caches.bench { ttl = 10m, l1 { max-entries = 1, max-weight = 0 },"
                + " tiers = [l1, { backend = fast"
                + (l3 ? ", max-entries = 1" : "")
                + " }, main] }"));
  }

  private static double median(List<double[]> s, int i) {
    double[] v = s.stream().mapToDouble(a -> a[i]).toArray();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static double min(List<double[]> s, int i) {
    return s.stream().mapToDouble(a -> a[i]).min().orElse(Double.NaN);
  }

  private static double max(List<double[]> s, int i) {
    return s.stream().mapToDouble(a -> a[i]).max().orElse(Double.NaN);
  }
}
