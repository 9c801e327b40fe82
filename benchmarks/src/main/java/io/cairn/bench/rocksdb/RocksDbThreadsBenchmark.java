package io.cairn.bench.rocksdb;

import java.nio.ByteBuffer;
import java.util.Random;
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

/**
 * Key-value get and put from concurrent threads at {@code durability = none} (the front page's;
 * {@code -p durability=normal} writes the WAL on both sides, unsynced): Cairn's RocksDB backend
 * opened through the registry exactly as a service opens it (instrumented stores, a timer per
 * operation) beside bare rocksdbjni with the same tuning ({@link RawRocks}: same block cache, bloom
 * filter, compression and write-buffer share) and the same write options Cairn uses at {@code none}
 * ({@code sync = false}, {@code disableWAL = true}), so the ratio measures Cairn's own work.
 * 16-byte keys, 100-byte values, {@code keys} preloaded; each thread reads or overwrites keys of
 * the whole key space in its own pseudo-random order.
 *
 * <p>The thread count is JMH's {@code -t}: run it three times, {@code -t 1}, {@code -t 4} and
 * {@code -t 8}, each with both {@code impl}s in the same invocation. Eight writers at {@code
 * durability = full} against raw synced puts are {@link RocksDbSyncedWriteBenchmark}'s.
 *
 * <p>Diagnostics, both off by default: {@code -Dcairn.bench.rocksdb.diag=true} prints per iteration
 * the workers' CPU, run-queue time and context switches per operation and RocksDB's commit groups
 * ({@link JmhThreadDiag}); {@code -Dcairn.bench.rocksdb.settings=<HOCON>} adds settings to Cairn's
 * backend entry ({@link CairnRocks#EXTRA}). Pass them with {@code -jvmArgsAppend}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RocksDbThreadsBenchmark {
  /**
   * Implementations; the ratio report divides by the first one not named CAIRN_*. {@code
   * RAW_ROCKSDB_AS_CAIRN} is the control ({@link RawRocksAsCairn}: raw rocksdbjni configured and
   * written to exactly as Cairn's backend, none of Cairn's Java code): not in the default set, so
   * the front page's suite runs as before; name it with {@code -p
   * impl=CAIRN_ROCKSDB,RAW_ROCKSDB,RAW_ROCKSDB_AS_CAIRN}. Cairn / control is what Cairn's code
   * costs; control / raw what Cairn's configuration costs.
   */
  public enum Impl {
    CAIRN_ROCKSDB,
    RAW_ROCKSDB,
    RAW_ROCKSDB_AS_CAIRN
  }

  @Param({"CAIRN_ROCKSDB", "RAW_ROCKSDB"})
  Impl impl;

  /**
   * Durability of both sides: {@code none} (the front page's: WAL off) or {@code normal} (WAL
   * written, not synced; raw with the same write options).
   */
  @Param("none")
  String durability;

  /** Preloaded keys; the full run uses 1000000. */
  @Param("100000")
  int keys;

  RocksDbKeyValueBenchmark.Kv kv;
  RawRocksAsCairn control; // RAW_ROCKSDB_AS_CAIRN only, else null (then kv is used)
  byte[][] keySpace;
  byte[][] framedKeys; // the control's stored keys, built once (for its "alloc" dropped)
  byte[] framedValue;
  byte[] value;
  final AtomicInteger threadIds = new AtomicInteger();
  final java.util.List<Cursor> cursors = new java.util.concurrent.CopyOnWriteArrayList<>();
  JmhThreadDiag diag;

  @Setup(Level.Trial)
  public void setUp() {
    keySpace = new byte[keys][];
    for (int i = 0; i < keys; i++) {
      keySpace[i] = key(i);
    }
    value = new byte[100];
    new Random(42).nextBytes(value);
    if (impl == Impl.RAW_ROCKSDB_AS_CAIRN) {
      if (!durability.equals("none")) {
        throw new IllegalArgumentException(
            "RAW_ROCKSDB_AS_CAIRN writes with the WAL off only; run it at durability = none");
      }
      control = new RawRocksAsCairn();
      framedKeys = new byte[keys][];
      for (int i = 0; i < keys; i++) {
        framedKeys[i] = control.frameKey(keySpace[i]);
      }
      framedValue = control.prebuiltValue(value);
      for (int i = 0; i < keys; i++) {
        control.put(keySpace[i], value, framedKeys[i], framedValue);
      }
      diag = new JmhThreadDiag(control);
      return;
    }
    kv = RocksDbKeyValueBenchmark.open(toKvImpl(impl), durability);
    for (byte[] k : keySpace) {
      kv.put(k, value);
    }
    diag = new JmhThreadDiag(kv);
  }

  private long ops() {
    long n = 0;
    for (Cursor c : cursors) {
      n += c.n;
    }
    return n;
  }

  @Setup(Level.Iteration)
  public void iterationStart() {
    if (JmhThreadDiag.ON) {
      diag.start(ops());
    }
  }

  @TearDown(Level.Iteration)
  public void iterationEnd() {
    if (JmhThreadDiag.ON) {
      diag.end(ops(), impl.name());
    }
  }

  private static RocksDbKeyValueBenchmark.Impl toKvImpl(Impl impl) {
    return impl == Impl.CAIRN_ROCKSDB
        ? RocksDbKeyValueBenchmark.Impl.CAIRN_ROCKSDB
        : RocksDbKeyValueBenchmark.Impl.RAW_ROCKSDB;
  }

  /** Key {@code i}: 16 bytes, a fixed 8-byte prefix and the index, big-endian. */
  static byte[] key(long i) {
    return ByteBuffer.allocate(16).putLong(0x6b65793a6b65793aL).putLong(i).array();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (control != null) {
      control.close();
    } else {
      kv.close();
    }
  }

  /** Each thread's own xorshift sequence over the key space (no shared counter). */
  @State(Scope.Thread)
  public static class Cursor {
    long x;
    long n; // operations so far, read between iterations by the diagnostic

    @Setup(Level.Trial)
    public void setUp(RocksDbThreadsBenchmark bench) {
      x = 0x9E3779B97F4A7C15L * (bench.threadIds.incrementAndGet() + 1);
      bench.cursors.add(this);
      if (JmhThreadDiag.ON) {
        JmhThreadDiag.register();
      }
    }

    int next(int bound) {
      n++;
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      return (int) ((x >>> 1) % bound);
    }
  }

  @Benchmark
  public byte[] get(Cursor c) {
    byte[] k = keySpace[c.next(keys)];
    return control != null ? control.get(k) : kv.get(k);
  }

  @Benchmark
  public void put(Cursor c) {
    int i = c.next(keys);
    if (control != null) {
      control.put(keySpace[i], value, framedKeys[i], framedValue);
    } else {
      kv.put(keySpace[i], value);
    }
  }
}
