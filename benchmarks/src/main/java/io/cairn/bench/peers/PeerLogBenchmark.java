package io.cairn.bench.peers;

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
 * Single-threaded append of 100-byte records, one commit each: Cairn's log store beside Tape,
 * Chronicle Queue and the Artemis journal ({@link LogPeer} says how each is configured).
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
public class PeerLogBenchmark {
  @Param LogPeer impl;

  LogPeer.Log log;
  byte[] record;

  @Setup(Level.Trial)
  public void setUp() {
    record = PeerKeyValueBenchmark.value();
    log = impl.open();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    log.close();
  }

  @Benchmark
  public void append() {
    log.append(record);
  }
}
