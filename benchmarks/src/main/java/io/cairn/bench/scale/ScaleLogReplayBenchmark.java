package io.cairn.bench.scale;

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
 * Log replay: read every record from offset 0 (pages of {@value ScaleImpl#READ_PAGE} records
 * through {@code LogStore.read}) of a log of 1M or 10M 100-byte records built once by {@link
 * ScaleData}; one replay per iteration (single shot), milliseconds per replay. Cairn's log store on
 * RocksDB and on SQLite, beside raw rocksdbjni iterating 8-byte offset keys with one iterator.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ScaleLogReplayBenchmark {
  @Param({"CAIRN_ROCKSDB_LOG", "CAIRN_SQLITE_LOG", "RAW_ROCKSDB_LOG"})
  String impl;

  @Param({"1000000", "10000000"})
  long records;

  ScaleImpl.Log log;

  @Setup(Level.Trial)
  public void setUp() {
    ScaleImpl i = ScaleImpl.valueOf(impl);
    i.ensure(records);
    log = i.openLog(records);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    log.close();
  }

  @Benchmark
  public long replay() {
    long n = log.replay();
    if (n != records) {
      throw new IllegalStateException(
          impl + ": replay read " + n + " records, the data set holds " + records);
    }
    return n;
  }
}
