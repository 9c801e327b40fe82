package io.cairn.bench.memory;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
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
 * Key-value puts on the memory backend from concurrent threads, with the shared base ordering
 * writes per key ({@code concurrent-writes = true}, the engine opts in to concurrent writes) beside
 * the same backend with one write at a time ({@code concurrent-writes = false}: the base's single
 * write lock, as for an engine that does not opt in). Through the registry exactly as a service
 * uses it (instrumented stores). 64 Ki keys preloaded, 100-byte values; each thread overwrites keys
 * of the whole key space from its own random start, so threads rarely share a key's stripe.
 *
 * <p>The thread count is JMH's {@code -t}: run it three times, {@code -t 1}, {@code -t 4} and
 * {@code -t 8}, each with both {@code impl}s in the same invocation; the ratio report divides
 * CAIRN_CONCURRENT by SERIALISED.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class MemoryWritersBenchmark {
  private static final int KEYS = 1 << 16;
  private static final int MASK = KEYS - 1;

  /** The write orders compared; the baseline is the name not starting with CAIRN. */
  public enum Impl {
    /** Writes ordered per key, log and snapshot set: concurrent on different stripes. */
    CAIRN_CONCURRENT,
    /** One write at a time (the engine does not opt in). */
    SERIALISED
  }

  @Param Impl impl;

  PersistenceRegistry registry;
  KeyValueStore store;
  byte[][] keys;
  byte[] value;

  @Setup(Level.Trial)
  public void setUp() {
    registry =
        PersistenceRegistry.open(
            ConfigFactory.parseString(
                "cairn.backends.bench { type = memory, concurrent-writes = "
                    + (impl == Impl.CAIRN_CONCURRENT)
                    + " }"));
    store = registry.backend("bench").keyValue("bench");
    Random random = new Random(42);
    keys = new byte[KEYS][];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = String.format("key:%08d", random.nextInt(Integer.MAX_VALUE)).getBytes();
    }
    value = new byte[100];
    random.nextBytes(value);
    for (byte[] k : keys) {
      store.put(k, value);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    registry.close();
  }

  /** Per-thread cursor so threads do not contend on a shared counter. */
  @State(Scope.Thread)
  public static class Cursor {
    int next = new Random().nextInt(KEYS);
  }

  @Benchmark
  public long put(Cursor c) {
    return store.put(keys[c.next++ & MASK], value);
  }
}
