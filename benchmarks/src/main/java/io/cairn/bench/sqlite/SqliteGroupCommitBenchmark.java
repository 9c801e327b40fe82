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
 * Eight writer threads at {@code durability = full} (fsync before a write returns). Cairn groups
 * concurrent writes into one transaction and one fsync per commit; raw sqlite-jdbc commits (and
 * fsyncs) every write in its own transaction on a shared connection. Target: Cairn at least 5x.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(8)
public class SqliteGroupCommitBenchmark {
  @Param SqliteBench.Impl impl;

  @Param({"full"})
  String durability;

  SqliteBench kv;
  byte[] value;

  @Setup(Level.Trial)
  public void setUp() {
    kv = SqliteBench.open(impl, durability);
    value = new byte[100];
    new Random(42).nextBytes(value);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    kv.close();
  }

  /** Per-thread keys, so threads never write the same key. */
  @State(Scope.Thread)
  public static class Keys {
    private static final java.util.concurrent.atomic.AtomicInteger IDS =
        new java.util.concurrent.atomic.AtomicInteger();
    final int id = IDS.incrementAndGet();
    int next;

    byte[] nextKey() {
      return ("t" + id + ":" + (next++ & 0xFFFF)).getBytes();
    }
  }

  @Benchmark
  public void put(Keys k) {
    kv.put(k.nextKey(), value);
  }
}
