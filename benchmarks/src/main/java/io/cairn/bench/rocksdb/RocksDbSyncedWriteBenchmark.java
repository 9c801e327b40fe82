package io.cairn.bench.rocksdb;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * {@code durability = full}: every put fsyncs the WAL before returning. Eight writer threads, each
 * on its own keys, so RocksDB can group their syncs (one fsync for a group of concurrent writers).
 * Cairn's RocksDB backend beside bare rocksdbjni puts with {@code sync = true}, same run. The data
 * directory is {@code -Dcairn.bench.dir} or the system temp directory; put it on a real disk.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(8)
public class RocksDbSyncedWriteBenchmark {
  /** Implementations; the ratio report divides by the first one not named CAIRN_*. */
  public enum Impl {
    CAIRN_ROCKSDB,
    RAW_ROCKSDB
  }

  @Param Impl impl;

  RocksDbKeyValueBenchmark.Kv kv;
  byte[] value = new byte[100];
  final AtomicInteger threadIds = new AtomicInteger();

  @Setup(Level.Trial)
  public void setUp() {
    kv = RocksDbKeyValueBenchmark.open(toKvImpl(impl), "full");
  }

  private static RocksDbKeyValueBenchmark.Impl toKvImpl(Impl impl) {
    return impl == Impl.CAIRN_ROCKSDB
        ? RocksDbKeyValueBenchmark.Impl.CAIRN_ROCKSDB
        : RocksDbKeyValueBenchmark.Impl.RAW_ROCKSDB;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    kv.close();
  }

  /** Each writer thread cycles over 4 Ki keys of its own. */
  @State(Scope.Thread)
  public static class Writer {
    byte[][] keys = new byte[4096][];
    int next;

    @Setup(Level.Trial)
    public void setUp(RocksDbSyncedWriteBenchmark bench) {
      int id = bench.threadIds.getAndIncrement();
      for (int i = 0; i < keys.length; i++) {
        keys[i] = String.format("w%02d:%06d", id, i).getBytes();
      }
    }
  }

  @Benchmark
  public void syncedPut(Writer w) {
    kv.put(w.keys[w.next++ & 4095], value);
  }
}
