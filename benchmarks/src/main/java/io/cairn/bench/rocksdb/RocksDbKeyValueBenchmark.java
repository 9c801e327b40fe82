package io.cairn.bench.rocksdb;

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
 * Single-threaded key-value get and put, {@code durability = normal} (WAL without fsync): Cairn's
 * RocksDB backend through the registry beside bare rocksdbjni with the same tuning and the same WAL
 * setting, in the same run. 64 Ki keys of 12 bytes, 100-byte values, preloaded.
 *
 * <p>{@code CAIRN_ROCKSDB} goes through the registry (with its per-operation Dropwizard timers, as
 * a service sees it); {@code CAIRN_ROCKSDB_BARE} is the same backend opened through its provider,
 * without the registry's timers. {@code RAW_ROCKSDB} is the baseline (a blind put). {@code
 * RAW_ROCKSDB_READ_PUT} reads the current entry before each put: what per-key versioning by
 * read-modify-write would cost. Cairn's put is blind too, since its versions come from a
 * backend-wide sequence; compare-and-set still reads.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RocksDbKeyValueBenchmark {
  private static final int KEYS = 1 << 16;
  private static final int MASK = KEYS - 1;

  /** Implementations; the ratio report divides by the first one not named CAIRN_*. */
  public enum Impl {
    CAIRN_ROCKSDB,
    CAIRN_ROCKSDB_BARE,
    RAW_ROCKSDB,
    RAW_ROCKSDB_READ_PUT
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
    kv = open(impl, "normal");
    Random random = new Random(42);
    keys = new byte[KEYS][];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = String.format("key:%08d", random.nextInt(100_000_000)).getBytes();
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
    int next = new Random(7).nextInt(KEYS);
  }

  @Benchmark
  public byte[] get(Cursor c) {
    return kv.get(keys[c.next++ & MASK]);
  }

  @Benchmark
  public void put(Cursor c) {
    kv.put(keys[c.next++ & MASK], value);
  }

  /** {@code cairn}'s store as a {@link Kv}; closing it closes the backend. */
  static Kv cairn(CairnRocks cairn) {
    return new Kv() {
      @Override
      public byte[] get(byte[] key) {
        return cairn.store.get(key);
      }

      @Override
      public void put(byte[] key, byte[] v) {
        cairn.store.put(key, v);
      }

      @Override
      public void close() {
        cairn.close();
      }
    };
  }

  static Kv open(Impl impl, String durability) {
    switch (impl) {
      case CAIRN_ROCKSDB:
      case CAIRN_ROCKSDB_BARE:
        {
          return cairn(new CairnRocks(durability, impl == Impl.CAIRN_ROCKSDB));
        }
      case RAW_ROCKSDB:
      case RAW_ROCKSDB_READ_PUT:
        {
          boolean readFirst = impl == Impl.RAW_ROCKSDB_READ_PUT;
          RawRocks raw = new RawRocks(durability.equals("full"));
          if (durability.equals("none")) {
            raw.writeOptions.setDisableWAL(true);
          }
          return new Kv() {
            @Override
            public byte[] get(byte[] key) {
              return raw.get(key);
            }

            @Override
            public void put(byte[] key, byte[] v) {
              if (readFirst) {
                raw.get(key);
              }
              raw.put(key, v);
            }

            @Override
            public void close() {
              raw.close();
            }
          };
        }
      default:
        throw new IllegalArgumentException(impl.name());
    }
  }
}
