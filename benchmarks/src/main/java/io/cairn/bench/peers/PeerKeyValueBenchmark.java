package io.cairn.bench.peers;

import java.util.Random;
import java.util.concurrent.TimeUnit;
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

/**
 * Single-threaded KV get and put of 16-byte keys and 100-byte values, preloaded with {@code keys}
 * entries: Cairn-RocksDB, Cairn-SQLite and the raw RocksDB engine beside MapDB, H2 MVStore, LMDB
 * and Chronicle Map ({@link KvPeer} says how each is configured and which crash-safety group it is
 * in). The put overwrites existing keys in a random-looking order.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(
    jvmArgsAppend = {
      // Chronicle Map/Queue on Java 17 (their documented flags), and LMDB's buffer access.
      "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
      "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-exports=jdk.unsupported/sun.misc=ALL-UNNAMED",
      "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED",
      "--add-opens=jdk.compiler/com.sun.tools.javac=ALL-UNNAMED",
      "--add-opens=java.base/java.lang=ALL-UNNAMED",
      "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
      "--add-opens=java.base/java.io=ALL-UNNAMED",
      "--add-opens=java.base/java.util=ALL-UNNAMED",
      "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
      // Chronicle's usage analytics would try the network (none here): off.
      "-Dchronicle.analytics.disable=true"
    })
public class PeerKeyValueBenchmark {
  @Param KvPeer impl;

  @Param({"10000"})
  int keys;

  KvPeer.Kv kv;
  byte[][] keySet;
  byte[] value;
  int next;

  @Setup(Level.Trial)
  public void setUp() {
    keySet = keys(keys);
    value = value();
    kv = impl.open();
    kv.preload(keySet, value);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    kv.close();
  }

  @Benchmark
  public byte[] get() {
    next = (next + 7919) % keySet.length;
    return kv.get(keySet[next]);
  }

  @Benchmark
  public void put() {
    next = (next + 7919) % keySet.length;
    kv.put(keySet[next], value);
  }

  /** {@code n} distinct 16-byte keys. */
  static byte[][] keys(int n) {
    byte[][] keys = new byte[n][];
    for (int i = 0; i < n; i++) {
      keys[i] = String.format("key:%012d", i * 2_654_435_761L % 1_000_000_000_000L).getBytes();
    }
    return keys;
  }

  static byte[] value() {
    byte[] value = new byte[100];
    new Random(42).nextBytes(value);
    return value;
  }
}
