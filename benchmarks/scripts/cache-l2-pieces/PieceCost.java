package io.cairn.cache;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.persistence.Codec;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The L2 hit of {@code TieredCacheCpuCost} (same set-up: RocksDB tier "fast", durability none,
 * 16,384 keys, 100-byte values, L1 of one entry) taken apart: each row adds one piece of the hit's
 * path, or runs the whole hit with one piece switched off, and all rows run interleaved in rounds
 * in one process, so that a piece is the difference of two rows measured at the same moments
 * (thread CPU per operation, median of the measured rounds; the first quarter is warm-up).
 *
 * <p>Lives in the cache's package to reach its internals; the switches it flips ({@code
 * TieredCache.PIECES_*}, {@code UpwardFills.PIECES_*}) exist only in the jar that {@code run.sh}
 * builds from {@code switches.patch}, never in the project's code. Not a test: a measurement.
 */
public final class PieceCost {
  private static final String[][] ROWS = {
    // row, the row it is compared with
    {"fast get", ""},
    {"fast getEntry", "fast get"},
    {"tier read", "fast getEntry"},
    {"+ value decode", "tier read"},
    {"+ key encode", "+ value decode"},
    {"+ L1 lookup (miss)", "+ key encode"},
    {"l2 hit, no hand-off", "+ L1 lookup (miss)"},
    {"l2 hit", "l2 hit, no hand-off"},
    {"l2 hit, fill thread skips the L1 fill", "l2 hit"},
    {"l2 hit, reader skips the L1 lookup", "l2 hit"},
    {"l2 hit, fill thread waits after a partial batch", "l2 hit"},
    {"+ L1 lookup, hand-off into a queue nobody drains", "+ L1 lookup (miss)"},
  };

  private PieceCost() {}

  public static void main(String[] args) throws Exception {
    int rounds = Integer.parseInt(args[0]);
    int ops = Integer.parseInt(args[1]);
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Path dir = Files.createTempDirectory("cairn-l2-pieces");
    Random random = new Random(42);
    int keyCount = 1 << 14;
    int mask = keyCount - 1;
    String[] keys = new String[keyCount];
    byte[][] keyBytes = new byte[keyCount][];
    for (int i = 0; i < keyCount; i++) {
      keys[i] = "key:" + random.nextInt(Integer.MAX_VALUE) + ":" + i;
      keyBytes[i] = keys[i].getBytes(StandardCharsets.UTF_8);
    }
    PersistenceRegistry registry =
        PersistenceRegistry.open(
            ConfigFactory.parseString(
                "cairn.backends.fast { type = rocksdb, durability = none, data-dir = "
                    + ConfigUtil.quoteString(dir.resolve("fast").toString())
                    + " }\n"
                    + "cairn.caches.bench { ttl = 10m, l1 { max-entries = 1, max-weight = 0 },"
                    + " tiers = [l1, { backend = fast }] }"));
    TieredCache<String, String> cache =
        TieredCache.open(registry, "bench", Codec.utf8(), Codec.utf8());
    KeyValueStore fast = registry.backend("fast").keyValue("cache.bench");
    Codec<String> utf8 = Codec.utf8();
    java.lang.reflect.Field f = TieredCache.class.getDeclaredField("l1");
    f.setAccessible(true);
    @SuppressWarnings("unchecked")
    L1Tier<String, String> l1 = (L1Tier<String, String>) f.get(cache);
    StoreTier tier = cache.chain().tiers().get(0);
    String value = "v".repeat(100);
    for (int i = 0; i < keyCount; i++) {
      cache.put(keys[i], value);
    }
    ConcurrentLinkedQueue<Object> queue = new ConcurrentLinkedQueue<>();
    AtomicInteger pending = new AtomicInteger();
    Map<String, List<Double>> res = new LinkedHashMap<>();
    long sink = 0;
    try {
      for (int r = 0; r < rounds; r++) {
        for (int row = 0; row < ROWS.length; row++) {
          TieredCache.PIECES_NO_HANDOFF = row == 6;
          TieredCache.PIECES_NO_L1_FILL = row == 8;
          TieredCache.PIECES_NO_L1_LOOKUP = row == 9;
          UpwardFills.PIECES_WAIT_AFTER_PARTIAL_BATCH = row == 10;
          Thread.sleep(5); // the fill thread sees the switches
          int next = random.nextInt(keyCount);
          long cpu0 = mx.getCurrentThreadCpuTime();
          switch (row) {
            case 0 -> {
              for (int i = 0; i < ops; i++) {
                sink += fast.get(keyBytes[next++ & mask]).length;
              }
            }
            case 1 -> {
              for (int i = 0; i < ops; i++) {
                sink += fast.getEntry(keyBytes[next++ & mask]).get().value().length;
              }
            }
            case 2 -> {
              for (int i = 0; i < ops; i++) {
                sink += tier.read(keyBytes[next++ & mask]).storedBytes();
              }
            }
            case 3 -> {
              for (int i = 0; i < ops; i++) {
                sink += tier.read(keyBytes[next++ & mask]).stored().decodeValue(utf8).length();
              }
            }
            case 4 -> {
              for (int i = 0; i < ops; i++) {
                byte[] k = utf8.encode(keys[next++ & mask]);
                sink += tier.read(k).stored().decodeValue(utf8).length();
              }
            }
            case 5 -> {
              for (int i = 0; i < ops; i++) {
                String key = keys[next++ & mask];
                if (l1.getIfPresent(key) != null) {
                  sink++;
                }
                sink += tier.read(utf8.encode(key)).stored().decodeValue(utf8).length();
              }
            }
            case 11 -> {
              // the submit's own work (its record, a queue node, the counter) without a thread
              // draining the queue: what the hand-off costs when no other core touches its lines
              for (int i = 0; i < ops; i++) {
                String key = keys[next++ & mask];
                if (l1.getIfPresent(key) != null) {
                  sink++;
                }
                byte[] k = utf8.encode(key);
                StoreTier.Found found = tier.read(k);
                String v = found.stored().decodeValue(utf8);
                sink += v.length();
                if (pending.incrementAndGet() > UpwardFills.QUEUE) {
                  queue.clear();
                  pending.set(0);
                }
                queue.offer(new Object[] {key, v, k, found.stored(), found});
              }
            }
            default -> {
              for (int i = 0; i < ops; i++) {
                sink += cache.getIfPresent(keys[next++ & mask]).length();
              }
            }
          }
          long cpu = mx.getCurrentThreadCpuTime() - cpu0;
          if (r >= rounds / 4) {
            res.computeIfAbsent(ROWS[row][0], x -> new ArrayList<>()).add(cpu / (double) ops);
          }
        }
      }
    } finally {
      TieredCache.PIECES_NO_HANDOFF = false;
      TieredCache.PIECES_NO_L1_FILL = false;
      TieredCache.PIECES_NO_L1_LOOKUP = false;
      UpwardFills.PIECES_WAIT_AFTER_PARTIAL_BATCH = false;
      cache.close();
      registry.close();
    }
    System.out.println("(sink " + (sink & 1) + ") rounds=" + rounds + " ops/round=" + ops);
    System.out.println("| row | thread CPU ns/op (median) | min | max | minus the row named | named |");
    System.out.println("|---|---:|---:|---:|---:|---|");
    Map<String, Double> medians = new LinkedHashMap<>();
    for (String[] row : ROWS) {
      List<Double> v = res.get(row[0]);
      Collections.sort(v);
      double med = v.get(v.size() / 2);
      medians.put(row[0], med);
      String delta = row[1].isEmpty() ? "" : String.format(Locale.ROOT, "%+.0f", med - medians.get(row[1]));
      System.out.printf(
          Locale.ROOT,
          "| %s | %.0f | %.0f | %.0f | %s | %s |%n",
          row[0],
          med,
          v.get(0),
          v.get(v.size() - 1),
          delta,
          row[1]);
    }
    System.out.printf(
        Locale.ROOT,
        "ratios (fast get / row): l2 hit %.2f, l2 hit without the hand-off %.2f, l2 hit with the"
            + " reader skipping the L1 lookup %.2f%n",
        medians.get("fast get") / medians.get("l2 hit"),
        medians.get("fast get") / medians.get("l2 hit, no hand-off"),
        medians.get("fast get") / medians.get("l2 hit, reader skips the L1 lookup"));
  }
}
