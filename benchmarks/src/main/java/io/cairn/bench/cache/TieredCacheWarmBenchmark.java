package io.cairn.bench.cache;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.cache.TieredCache;
import io.cairn.persistence.Codec;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * {@code warmFromL2}: 1,000,000 entries (24-byte keys, 100-byte values) copied from the top
 * persistent tier into an empty L1 (single shot per iteration; the cache is reopened before each,
 * so L1 starts empty). Target from the plan: under 5 s. The entries are written once per trial with
 * {@code putAll} in the cache's stored format (header {@code 0xCA 0x7A 0x00}: no tags, then the
 * value's bytes), which is what {@code put} writes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class TieredCacheWarmBenchmark {
  @Param({"rocksdb", "sqlite"})
  String backend;

  @Param({"1000000"})
  int entries;

  PersistenceRegistry registry;
  TieredCache<String, String> cache;
  Path dir;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("cairn-cache-warm-bench");
    registry =
        PersistenceRegistry.open(
            ConfigFactory.parseString(
                "cairn.backends.l2 { type = "
                    + backend
                    + ", durability = none, data-dir = "
                    + ConfigUtil.quoteString(dir.resolve("db").toString())
                    + " }\n"
                    + "cairn.caches.bench { backend = l2, ttl = 1h, l1.max-entries = "
                    + entries
                    + ", l1.max-weight = 1GiB }"));
    KeyValueStore store = registry.backend("l2").keyValue("cache.bench");
    byte[] value = new byte[103];
    value[0] = (byte) 0xCA;
    value[1] = (byte) 0x7A;
    value[2] = 0;
    byte[] v = "v".repeat(100).getBytes(StandardCharsets.UTF_8);
    System.arraycopy(v, 0, value, 3, 100);
    List<KeyValue> batch = new ArrayList<>();
    for (int i = 0; i < entries; i++) {
      batch.add(
          new KeyValue(String.format("warm-key-%014d", i).getBytes(StandardCharsets.UTF_8), value));
      if (batch.size() == 10_000 || i == entries - 1) {
        store.putAll(batch);
        batch.clear();
      }
    }
  }

  @Setup(Level.Iteration)
  public void openCache() {
    cache = TieredCache.open(registry, "bench", Codec.utf8(), Codec.utf8());
    System.gc();
  }

  @TearDown(Level.Iteration)
  public void closeCache() {
    cache.close();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    registry.close();
    io.cairn.bench.BenchFiles.deleteTree(dir);
  }

  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean)
          java.lang.management.ManagementFactory.getOperatingSystemMXBean();

  /**
   * Prints the process CPU time of each warming (all threads: the scan thread, the filling thread,
   * GC, JIT) beside JMH's wall time: on the shared machine the wall time measures the load as much
   * as the code, the CPU time does not.
   */
  @Benchmark
  public long warmFromL2() {
    long cpu = OS.getProcessCpuTime();
    long wall = System.nanoTime();
    long copied = cache.warmFromL2(entries, Progress.NONE);
    System.out.printf(
        " [warm %s: wall %d ms, process CPU %d ms] ",
        backend,
        (System.nanoTime() - wall) / 1_000_000,
        (OS.getProcessCpuTime() - cpu) / 1_000_000);
    if (copied != entries) {
      throw new IllegalStateException("warmed " + copied + " of " + entries);
    }
    return copied;
  }
}
