package io.cairn.bench.peers;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * Eight writers at fsync per commit: 8 threads put at once, each overwriting keys of its own (a
 * disjoint eighth of {@code keys} preloaded entries, 16-byte keys, 100-byte values), and every put
 * returns only once it is on disk. Only the stores of {@link KvPeer}'s {@link
 * Safety#FSYNC_PER_COMMIT} group take part, so the comparison is among equal crash safety. A store
 * that groups concurrent commits into one sync (RocksDB's write group, SQLite's group commit at
 * {@code full}) gains here what a single writer cannot show; one that serialises commits does not.
 * The front page's ratios are to raw rocksdbjni with {@code sync = true}, the first non-Cairn store
 * (target: Cairn-RocksDB at {@code full} at least 1.0).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(8)
@Fork(
    jvmArgsAppend = {
      // LMDB's (lmdbjava) direct buffer access on Java 17
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED"
    })
public class PeerSyncedWritersBenchmark {
  @Param({
    "CAIRN_ROCKSDB_FULL",
    "RAW_ROCKSDB_SYNC",
    "CAIRN_SQLITE_FULL",
    "MVSTORE_SYNC",
    "LMDB_SYNC",
    "MAPDB_HASH_TX",
    "MAPDB_BTREE_TX"
  })
  KvPeer impl;

  @Param({"10000"})
  int keys;

  KvPeer.Kv kv;
  byte[][] keySet;
  byte[] value;
  final AtomicInteger writers = new AtomicInteger();

  @Setup(Level.Trial)
  public void setUp() {
    if (impl.safety != Safety.FSYNC_PER_COMMIT) {
      throw new IllegalArgumentException(
          impl + " does not fsync per commit: this benchmark compares only stores that do");
    }
    keySet = PeerKeyValueBenchmark.keys(keys);
    value = PeerKeyValueBenchmark.value();
    kv = impl.open();
    kv.preload(keySet, value);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    kv.close();
  }

  /** A writer's own keys: the slice {@code [first, first + count)} of the preloaded ones. */
  @State(Scope.Thread)
  public static class Writer {
    int first;
    int count;
    int next;

    @Setup(Level.Trial)
    public void setUp(PeerSyncedWritersBenchmark b) {
      int slices = 8;
      int me = b.writers.getAndIncrement() % slices;
      count = b.keySet.length / slices;
      first = me * count;
    }
  }

  @Benchmark
  public void put(Writer w) {
    w.next = (w.next + 7919) % w.count;
    kv.put(keySet[w.first + w.next], value);
  }
}
