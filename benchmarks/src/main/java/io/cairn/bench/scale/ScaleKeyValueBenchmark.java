package io.cairn.bench.scale;

import java.util.concurrent.ThreadLocalRandom;
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
 * KV get and put at 100k, 1M and 10M keys (16-byte keys, 100-byte values, one thread) on a data set
 * of {@link ScaleData} built once and reused: Cairn-RocksDB and Cairn-SQLite at {@code durability =
 * normal} beside raw rocksdbjni and raw sqlite-jdbc. Get reads a uniformly random existing key; put
 * overwrites one with a value that differs from the stored one (a counter in its first 8 bytes: an
 * identical row would let SQLite skip the write). The key is computed per operation (a 16-byte
 * array and a hash), the same small cost for every store.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ScaleKeyValueBenchmark {
  @Param({"CAIRN_ROCKSDB", "RAW_ROCKSDB", "CAIRN_SQLITE", "RAW_SQLITE"})
  String impl;

  @Param({"100000", "1000000", "10000000"})
  long keys;

  ScaleImpl.Kv kv;

  @Setup(Level.Trial)
  public void setUp() {
    ScaleImpl i = ScaleImpl.valueOf(impl);
    i.ensure(keys);
    kv = i.openKv(keys);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    kv.close();
  }

  /** Per thread: the value to write, changed at every put. */
  @State(Scope.Thread)
  public static class Writer {
    final byte[] value = ScaleData.value(-1);
    long counter;

    byte[] next() {
      long c = ++counter;
      for (int j = 0; j < 8; j++) {
        value[j] = (byte) (c >>> (8 * j));
      }
      return value;
    }
  }

  @Benchmark
  public byte[] get() {
    return kv.get(ScaleData.key(ThreadLocalRandom.current().nextLong(keys)));
  }

  @Benchmark
  public void put(Writer w) {
    kv.put(ScaleData.key(ThreadLocalRandom.current().nextLong(keys)), w.next());
  }
}
