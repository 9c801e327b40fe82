package io.cairn.bench.cache;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.cache.TieredCache;
import io.cairn.persistence.Codec;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * An L2 hit (or L3 hit) of a tiered cache and the raw get of the engine that answers it, measured
 * <em>at the same moments</em>: a JMH group runs one thread of each side together for every
 * iteration, so that both see the same load. On the shared 2-core machine the load moves by a
 * factor of several within minutes, and {@link TieredCacheTiersBenchmark} measures its impls one
 * after the other, so its ratios there can come out above 1 (a raw get measured during a busier
 * minute than the hit); the per-method results of one group here (sample mode, µs/op) share their
 * minutes. Both threads compete with each other for the cores as well, equally.
 *
 * <p>Set-up as in {@link TieredCacheTiersBenchmark}: {@code tiers = [l1, fast, main]}, fast =
 * RocksDB, main = SQLite, both {@code durability = none}, 16,384 keys, 100-byte values, TTL 10
 * minutes, L1 of one entry. {@code tier = l2}: every lookup misses L1 and is answered by fast,
 * beside {@code KeyValueStore.get} on fast's namespace. {@code tier = l3}: fast bounded to one
 * entry, so every lookup is answered by main (and fills fast off the reader's thread), beside the
 * get on main's namespace.
 *
 * <p><b>The raw side reads its own copy</b> (backends {@code rawfast} / {@code rawmain}, same type
 * and settings, filled by a second cache with the same keys and values, so the stored bytes, TTLs
 * and write history are the same). When both threads read one SQLite file, each read's cost
 * depended on the other thread (as far as measured: SQLite takes a WAL read lock with {@code fcntl}
 * only when no other connection of the process holds it, so a read overlapping the other thread's
 * read skips two system calls). The raw thread, always inside SQLite, made the cache's reads cheap
 * and paid for its own whenever the cache's thread was busy elsewhere: the raw get's p50 was 6.3 us
 * beside the old L3 path and 2.4 us beside one that spends more of its time in SQLite (the same raw
 * code), and an L3 hit, which contains that get, measured below it (RESULTS-cache-tiers.md,
 * 2026-12-06 noon).
 */
@State(Scope.Group)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TieredCachePairedBenchmark {
  private static final int KEYS = 1 << 14;
  private static final int MASK = KEYS - 1;

  @Param({"l2", "l3"})
  String tier;

  PersistenceRegistry registry;
  TieredCache<String, String> cache;
  TieredCache<String, String> rawCopy; // writes the raw side's copy, then closed
  KeyValueStore store;
  String[] keys;
  byte[][] keyBytes;
  Path dir;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("cairn-cache-paired-bench");
    boolean l3 = tier.equals("l3");
    registry =
        PersistenceRegistry.open(
            ConfigFactory.parseString(
                "cairn.backends.fast { type = rocksdb, durability = none, data-dir = "
                    + ConfigUtil.quoteString(dir.resolve("fast").toString())
                    + " }\n"
                    + "cairn.backends.main { type = sqlite, durability = none, data-dir = "
                    + ConfigUtil.quoteString(dir.resolve("main").toString())
                    + " }\n"
                    + "cairn.backends.rawfast { type = rocksdb, durability = none, data-dir = "
                    + ConfigUtil.quoteString(dir.resolve("rawfast").toString())
                    + " }\n"
                    + "cairn.backends.rawmain { type = sqlite, durability = none, data-dir = "
                    + ConfigUtil.quoteString(dir.resolve("rawmain").toString())
                    + " }\n"
                    + cacheConfig("bench", "fast", "main", l3)
                    + cacheConfig("raw", "rawfast", "rawmain", l3)));
    cache = TieredCache.open(registry, "bench", Codec.utf8(), Codec.utf8());
    rawCopy = TieredCache.open(registry, "raw", Codec.utf8(), Codec.utf8());
    store = registry.backend(l3 ? "rawmain" : "rawfast").keyValue("cache.raw");
    Random random = new Random(42);
    keys = new String[KEYS];
    keyBytes = new byte[KEYS][];
    String value = "v".repeat(100);
    for (int i = 0; i < KEYS; i++) {
      keys[i] = "key:" + random.nextInt(Integer.MAX_VALUE) + ":" + i;
      keyBytes[i] = keys[i].getBytes(StandardCharsets.UTF_8);
      cache.put(keys[i], value);
      rawCopy.put(keys[i], value);
    }
    rawCopy.close(); // its tiers stay; only the raw get reads them
    for (int i = 0; i < KEYS; i++) {
      if (store.get(keyBytes[i]) == null) {
        throw new IllegalStateException("set-up failed: the tier lost " + keys[i]);
      }
    }
    System.gc();
  }

  private static String cacheConfig(String name, String fast, String main, boolean l3) {
    return "cairn.caches."
        + name
        + " { ttl = 10m, l1 { max-entries = 1, max-weight = 0 }, tiers = [l1, { backend = "
        + fast
        + (l3 ? ", max-entries = 1" : "")
        + " }, "
        + main
        + "] }\n";
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    cache.close();
    registry.close();
    io.cairn.bench.BenchFiles.deleteTree(dir);
  }

  /** Per-thread cursor; the two threads start apart so that they do not read the same key. */
  @State(Scope.Thread)
  public static class Cursor {
    int next = new Random().nextInt(KEYS);
  }

  /** The cache's hit in the tier under test (L1 always misses). */
  @Benchmark
  @Group("pair")
  @GroupThreads(1)
  public Object cairn(Cursor c) {
    int i = c.next++ & MASK;
    String v = cache.getIfPresent(keys[i]);
    if (v == null) {
      throw new IllegalStateException("miss for " + keys[i]);
    }
    return v;
  }

  /** The raw get of the engine that answers that hit, on the same namespace. */
  @Benchmark
  @Group("pair")
  @GroupThreads(1)
  public Object raw(Cursor c) {
    return store.get(keyBytes[c.next++ & MASK]);
  }
}
