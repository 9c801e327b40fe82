package io.cairn.bench.raft;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.raft.RaftEntry;
import io.cairn.raft.RaftStorage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
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
 * A Raft node persisting its log at {@code durability = full}: one batch of {@code batch} entries
 * of 100 bytes per operation, durable when the call returns. {@code CAIRN_SQLITE} and {@code
 * CAIRN_ROCKSDB} call {@link RaftStorage#append} (what MicroRaft's {@code persistLogEntries} +
 * {@code flush} become through {@code CairnRaftStore}); {@code FILE_CHANNEL} appends the same bytes
 * (index, term and payload per entry) to a file and calls {@code force(false)}: the physical limit
 * of the disk, in the same run. The data directory is {@code -Dcairn.bench.dir} or the system temp
 * directory; put it on a real disk.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RaftPersistBenchmark {
  /** Implementations; the ratio report divides by the first one not named CAIRN_*. */
  public enum Impl {
    CAIRN_SQLITE,
    CAIRN_ROCKSDB,
    FILE_CHANNEL
  }

  @Param Impl impl;

  @Param({"1", "16", "128"})
  int batch;

  private Path dir;
  private PersistenceRegistry registry;
  private RaftStorage storage;
  private FileChannel channel;
  private ByteBuffer buffer;
  private final byte[] payload = new byte[100];
  private long next = 1;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    Path base =
        Path.of(System.getProperty("cairn.bench.dir", System.getProperty("java.io.tmpdir")));
    dir = Files.createTempDirectory(base, "raft-bench-");
    if (impl == Impl.FILE_CHANNEL) {
      channel =
          FileChannel.open(
              dir.resolve("log"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      buffer = ByteBuffer.allocate(batch * (16 + payload.length));
    } else {
      String type = impl == Impl.CAIRN_SQLITE ? "sqlite" : "rocksdb";
      registry =
          PersistenceRegistry.builder()
              .baseDirectory(dir)
              .open(
                  ConfigFactory.parseString(
                      "cairn.backends.main = { type = " + type + ", durability = full }"));
      storage = RaftStorage.open(registry.backend("main"), "bench");
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    if (channel != null) {
      channel.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  @Benchmark
  public void persistBatch() {
    if (channel != null) {
      buffer.clear();
      for (int i = 0; i < batch; i++) {
        buffer.putLong(next++).putLong(1).put(payload);
      }
      buffer.flip();
      try {
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        channel.force(false);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return;
    }
    List<RaftEntry> entries = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) {
      entries.add(new RaftEntry(next++, 1, payload));
    }
    storage.append(entries);
  }
}
