package io.cairn.bench.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
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
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A hit in each tier of a three-tier cache ({@code tiers = [l1, fast, main]}, fast = RocksDB, main
 * = SQLite, both {@code durability = none}) beside raw Caffeine and the raw engines' get, latency
 * distribution (sample mode: p50/p99 in the JMH output), one run. 16,384 keys, 100-byte values, TTL
 * 10 minutes, keys cycled per thread.
 *
 * <ul>
 *   <li>{@code CAIRN_L1_HIT}: {@code getIfPresent} of a key held in L1 (L1 holds all keys);
 *       baseline {@code CAFFEINE}: a raw Caffeine cache's {@code getIfPresent}, same bound.
 *   <li>{@code CAIRN_L2_HIT}: L1 bounded to one entry, so every lookup misses L1, is answered by
 *       fast (RocksDB), decodes and fills L1; baseline {@code ROCKSDB_GET}: {@code
 *       KeyValueStore.get} of the same key bytes on fast's namespace.
 *   <li>{@code CAIRN_L3_HIT}: L1 one entry and fast bounded to one entry ({@code max-entries = 1}),
 *       so every lookup misses L1 and fast, is answered by main (SQLite) and fills fast (a write,
 *       and the eviction of the previous key: the real cost of an L3 hit) and L1; baseline {@code
 *       SQLITE_GET}: {@code KeyValueStore.get} on main's namespace.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TieredCacheTiersBenchmark {
  private static final int KEYS = 1 << 14;
  private static final int MASK = KEYS - 1;

  /** What one operation is. */
  public enum Impl {
    CAIRN_L1_HIT,
    CAIRN_L2_HIT,
    CAIRN_L3_HIT,
    CAFFEINE,
    ROCKSDB_GET,
    SQLITE_GET
  }

  @Param Impl impl;

  PersistenceRegistry registry;
  TieredCache<String, String> cache;
  Cache<String, String> caffeine;
  KeyValueStore store;
  String[] keys;
  byte[][] keyBytes;
  Path dir;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("cairn-cache-tiers-bench");
    String l1 =
        impl == Impl.CAIRN_L1_HIT || impl == Impl.CAFFEINE
            ? "l1.max-entries = 65536"
            : "l1 { max-entries = 1, max-weight = 0 }";
    String fastBound = impl == Impl.CAIRN_L3_HIT ? ", max-entries = 1" : "";
    registry =
        PersistenceRegistry.open(
            ConfigFactory.parseString(
                "cairn.backends.fast { type = rocksdb, durability = none, data-dir = "
                    + ConfigUtil.quoteString(dir.resolve("fast").toString())
                    + " }\n"
                    + "cairn.backends.main { type = sqlite, durability = none, data-dir = "
                    + ConfigUtil.quoteString(dir.resolve("main").toString())
                    + " }\n"
                    + "cairn.caches.bench { ttl = 10m, "
                    + l1
                    + ", tiers = [l1, { backend = fast"
                    + fastBound
                    + " }, main] }"));
    cache = TieredCache.open(registry, "bench", Codec.utf8(), Codec.utf8());
    caffeine = Caffeine.newBuilder().maximumSize(65536).build();
    store = registry.backend(impl == Impl.SQLITE_GET ? "main" : "fast").keyValue("cache.bench");
    Random random = new Random(42);
    keys = new String[KEYS];
    keyBytes = new byte[KEYS][];
    String value = "v".repeat(100);
    for (int i = 0; i < KEYS; i++) {
      keys[i] = "key:" + random.nextInt(Integer.MAX_VALUE) + ":" + i;
      keyBytes[i] = keys[i].getBytes(StandardCharsets.UTF_8);
      cache.put(keys[i], value);
      caffeine.put(keys[i], value);
    }
    for (int i = 0; i < KEYS; i++) {
      if (impl != Impl.CAIRN_L3_HIT && store.get(keyBytes[i]) == null) {
        throw new IllegalStateException("set-up failed: the tier lost " + keys[i]);
      }
    }
    System.gc();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    cache.close();
    registry.close();
    io.cairn.bench.BenchFiles.deleteTree(dir);
  }

  /** Per-thread cursor so threads do not contend on a shared counter. */
  @State(Scope.Thread)
  public static class Cursor {
    int next = new Random().nextInt(KEYS);
  }

  @Benchmark
  public Object get(Cursor c) {
    int i = c.next++ & MASK;
    switch (impl) {
      case CAFFEINE:
        return caffeine.getIfPresent(keys[i]);
      case ROCKSDB_GET:
      case SQLITE_GET:
        return store.get(keyBytes[i]);
      default:
        String v = cache.getIfPresent(keys[i]);
        if (v == null) {
          throw new IllegalStateException("miss for " + keys[i]);
        }
        return v;
    }
  }
}
