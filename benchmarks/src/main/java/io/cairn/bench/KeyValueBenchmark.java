package io.cairn.bench;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.Bytes;
import java.util.Random;
import java.util.concurrent.ConcurrentSkipListMap;
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
 * Key-value get and put on the memory backend, through the registry exactly as a service uses it
 * (instrumented stores), beside a bare {@link ConcurrentSkipListMap} with the same unsigned
 * ordering. The ratio shows what versions, TTL checks, argument checks and metrics cost.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class KeyValueBenchmark {
  private static final int KEYS = 1 << 16;
  private static final int MASK = KEYS - 1;

  /** The implementations compared; baselines are the names not starting with CAIRN. */
  public enum Impl {
    CAIRN_MEMORY,
    SKIPLIST_MAP
  }

  /** Thin adapter so one benchmark body drives every implementation. */
  interface Kv extends AutoCloseable {
    byte[] get(byte[] key);

    void put(byte[] key, byte[] value);

    @Override
    void close();
  }

  @Param Impl impl;

  Kv kv;
  byte[][] keys;
  byte[] value;

  @Setup(Level.Trial)
  public void setUp() {
    kv = open(impl);
    Random random = new Random(42);
    keys = new byte[KEYS][];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = String.format("key:%08d", random.nextInt(Integer.MAX_VALUE)).getBytes();
    }
    value = new byte[100];
    random.nextBytes(value);
    for (byte[] k : keys) {
      kv.put(k, value);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    kv.close();
  }

  /** Per-thread cursor so threads do not contend on a shared counter. */
  @State(Scope.Thread)
  public static class Cursor {
    int next = new Random().nextInt(KEYS);
  }

  @Benchmark
  public byte[] get(Cursor c) {
    return kv.get(keys[c.next++ & MASK]);
  }

  @Benchmark
  public void put(Cursor c) {
    kv.put(keys[c.next++ & MASK], value);
  }

  static Kv open(Impl impl) {
    switch (impl) {
      case CAIRN_MEMORY:
        PersistenceRegistry registry =
            PersistenceRegistry.open(
                ConfigFactory.parseString("cairn.backends.bench { type = memory }"));
        KeyValueStore store = registry.backend("bench").keyValue("bench");
        return new Kv() {
          @Override
          public byte[] get(byte[] key) {
            return store.get(key);
          }

          @Override
          public void put(byte[] key, byte[] v) {
            store.put(key, v);
          }

          @Override
          public void close() {
            registry.close();
          }
        };
      case SKIPLIST_MAP:
        ConcurrentSkipListMap<byte[], byte[]> map = new ConcurrentSkipListMap<>(Bytes.UNSIGNED);
        return new Kv() {
          @Override
          public byte[] get(byte[] key) {
            return map.get(key);
          }

          @Override
          public void put(byte[] key, byte[] v) {
            map.put(key.clone(), v.clone()); // the store copies too: callers may reuse arrays
          }

          @Override
          public void close() {}
        };
      default:
        throw new IllegalArgumentException(impl.name());
    }
  }
}
