package io.cairn.bench.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the L1 fill of an L2 hit costs in Caffeine alone, by the way it stores: the {@code compute}
 * with the write-sequence check inside (what {@code L1Tier.fill} does), {@code putIfAbsent} with a
 * re-check and conditional remove (not exact: see {@code L1Tier.fill}), and a plain {@code put};
 * beside a lookup that misses. The cache is built as L1 is ({@code executor(Runnable::run)}, an
 * eviction listener) with one entry, as in the tiers benchmarks, so every store evicts; the
 * "-noevict" rows use a cache larger than the 16,384 keys (after the first pass they replace or
 * find a present key). Thread CPU time per operation, medians of 15 measured rounds of 200,000
 * after 5 warm-up rounds. Usage: {@code java -cp benchmarks/target/benchmarks.jar
 * io.cairn.bench.cache.L1FillCost}. Results: benchmarks/RESULTS-cache-tiers.md.
 */
public final class L1FillCost {
  private static final int KEYS = 1 << 14;

  private L1FillCost() {}

  public static void main(String[] args) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    String[] keys = new String[KEYS];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = "key:" + i;
    }
    AtomicLongArray seq = new AtomicLongArray(1024);
    String[] modes = {
      "compute", "putIfAbsent+check", "put", "getIfPresent-miss", "compute-noevict", "pia-noevict"
    };
    Map<String, List<Double>> res = new LinkedHashMap<>();
    long sink = 0;
    int ops = 200_000;
    for (int round = 0; round < 20; round++) {
      for (String m : modes) {
        boolean noevict = m.endsWith("noevict");
        Cache<String, String> c =
            Caffeine.newBuilder()
                .executor(Runnable::run)
                .maximumSize(noevict ? 100_000 : 1)
                .evictionListener((k, v, cause) -> {})
                .build();
        ConcurrentMap<String, String> map = c.asMap();
        int next = round * 977;
        long t0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < ops; i++) {
          String k = keys[next++ & (KEYS - 1)];
          String v = new String("v" + (i & 7));
          int s = k.hashCode() & 1023;
          long before = seq.get(s);
          switch (m) {
            case "compute", "compute-noevict" -> {
              String now = map.compute(k, (kk, old) -> seq.get(s) != before ? old : v);
              if (now == v) {
                sink++;
              }
            }
            case "putIfAbsent+check", "pia-noevict" -> {
              String prior = map.putIfAbsent(k, v);
              if (prior == null) {
                if (seq.get(s) != before) {
                  map.remove(k, v);
                } else {
                  sink++;
                }
              }
            }
            case "put" -> {
              map.put(k, v);
              sink++;
            }
            default -> {
              if (c.getIfPresent(k) != null) {
                sink++;
              }
            }
          }
        }
        long cpu = mx.getCurrentThreadCpuTime() - t0;
        if (round >= 5) {
          res.computeIfAbsent(m, x -> new ArrayList<>()).add(cpu / (double) ops);
        }
      }
    }
    System.out.println("sink " + (sink & 1));
    res.forEach(
        (m, l) -> {
          Collections.sort(l);
          System.out.printf(
              Locale.ROOT, "%-20s median %.0f ns  min %.0f%n", m, l.get(l.size() / 2), l.get(0));
        });
  }
}
