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
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * An L2 hit of the tiered cache beside the L2 store's own get, latency distribution (sample mode:
 * p50/p99 in the JMH output). {@code CAIRN_L2_HIT}: {@code getIfPresent} of a key held in L2 and
 * not in L1 (L1 bounded to one entry, keys cycled, so every lookup misses L1, reads L2, decodes and
 * fills L1, evicting the previous copy). {@code STORE_GET}: {@code KeyValueStore.get} of the same
 * key bytes on the same namespace, the floor an L2 hit cannot beat. 16,384 keys, 100-byte values,
 * TTL 10 minutes (the write sequence of issue 20 item 1 is on this path).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TieredCacheL2Benchmark {
  private static final int KEYS = 1 << 14;
  private static final int MASK = KEYS - 1;

  /** What one operation is. */
  public enum Impl {
    CAIRN_L2_HIT,
    STORE_GET
  }

  @Param({"sqlite", "rocksdb"})
  String backend;

  @Param Impl impl;

  PersistenceRegistry registry;
  TieredCache<String, String> cache;
  KeyValueStore store;
  String[] keys;
  byte[][] keyBytes;
  Path dir;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("cairn-cache-l2-bench");
    registry =
        PersistenceRegistry.open(
            ConfigFactory.parseString(
                "cairn.backends.l2 { type = "
                    + backend
                    + ", durability = none, data-dir = "
                    + ConfigUtil.quoteString(dir.resolve("db").toString())
                    + " }\n"
                    + "cairn.caches.bench { backend = l2, ttl = 10m, l1.max-entries = 1,"
                    + " l1.max-weight = 0 }"));
    cache = TieredCache.open(registry, "bench", Codec.utf8(), Codec.utf8());
    store = registry.backend("l2").keyValue("cache.bench");
    Random random = new Random(42);
    keys = new String[KEYS];
    keyBytes = new byte[KEYS][];
    String value = "v".repeat(100);
    for (int i = 0; i < KEYS; i++) {
      keys[i] = "key:" + random.nextInt(Integer.MAX_VALUE) + ":" + i;
      keyBytes[i] = keys[i].getBytes(StandardCharsets.UTF_8);
      cache.put(keys[i], value);
    }
    for (int i = 0; i < KEYS; i++) {
      if (store.get(keyBytes[i]) == null) {
        throw new IllegalStateException("set-up failed: L2 lost " + keys[i]);
      }
    }
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
    if (impl == Impl.CAIRN_L2_HIT) {
      String v = cache.getIfPresent(keys[i]);
      if (v == null) {
        throw new IllegalStateException("L2 miss for " + keys[i]);
      }
      return v;
    }
    return store.get(keyBytes[i]);
  }
}
