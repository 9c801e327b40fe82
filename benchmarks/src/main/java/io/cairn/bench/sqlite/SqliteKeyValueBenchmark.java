package io.cairn.bench.sqlite;

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
import org.openjdk.jmh.annotations.Threads;

/**
 * Single-threaded key-value put and get: Cairn's SQLite backend beside raw sqlite-jdbc doing the
 * same work in the same run (target: Cairn at least 0.8x raw). 64 Ki keys of 12 bytes with 100-byte
 * values are preloaded; put overwrites existing keys, get reads existing keys.
 *
 * <p>Every put writes a value that differs from the stored one (a counter in its first 4 bytes),
 * for every implementation. With a constant value, as before 2026-11-22 04:30 UTC, the strict raw
 * baseline rewrote byte-identical rows, which SQLite does not write at all (0.0 WAL frames per put,
 * measured), so it was timing a no-op against Cairn's real write.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class SqliteKeyValueBenchmark {
  static final int KEYS = 1 << 16;
  static final int MASK = KEYS - 1;

  @Param SqliteBench.Impl impl;

  @Param({"normal"})
  String durability;

  SqliteBench kv;
  byte[][] keys;
  byte[] value;
  int next;

  @Setup(Level.Trial)
  public void setUp() {
    kv = SqliteBench.open(impl, durability);
    Random random = new Random(42);
    keys = new byte[KEYS][];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = String.format("key:%08d", random.nextInt(100_000_000)).getBytes();
    }
    value = new byte[100];
    random.nextBytes(value);
    kv.preload(keys, value);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    kv.close();
  }

  @Benchmark
  public byte[] get() {
    return kv.get(keys[next++ & MASK]);
  }

  @Benchmark
  public void put() {
    int n = next++;
    value[0] = (byte) n;
    value[1] = (byte) (n >>> 8);
    value[2] = (byte) (n >>> 16);
    value[3] = (byte) (n >>> 24);
    kv.put(keys[n & MASK], value);
  }
}
