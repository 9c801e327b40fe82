package io.cairn.bench;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
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
 * Log append on the memory backend beside a synchronized {@link ArrayList}. Both retain at most
 * {@value #RETAIN} records (truncating the same way) so memory stays bounded over long runs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class LogAppendBenchmark {
  static final int RETAIN = 100_000;

  /** The implementations compared; baselines are the names not starting with CAIRN. */
  public enum Impl {
    CAIRN_MEMORY,
    ARRAY_LIST
  }

  interface Log extends AutoCloseable {
    long append(byte[] payload);

    @Override
    void close();
  }

  @Param Impl impl;

  Log log;
  final byte[] payload = new byte[100];

  @Setup(Level.Trial)
  public void setUp() {
    log = open(impl);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    log.close();
  }

  @Benchmark
  public long append() {
    return log.append(payload);
  }

  static Log open(Impl impl) {
    switch (impl) {
      case CAIRN_MEMORY:
        PersistenceRegistry registry =
            PersistenceRegistry.open(
                ConfigFactory.parseString("cairn.backends.bench { type = memory }"));
        LogStore store = registry.backend("bench").log("bench");
        return new Log() {
          @Override
          public long append(byte[] p) {
            long offset = store.append(p);
            if (offset % RETAIN == RETAIN - 1) {
              store.truncateBefore(offset + 1);
            }
            return offset;
          }

          @Override
          public void close() {
            registry.close();
          }
        };
      case ARRAY_LIST:
        List<byte[]> list = new ArrayList<>();
        return new Log() {
          private long base;

          @Override
          public synchronized long append(byte[] p) {
            list.add(p.clone());
            long offset = base + list.size() - 1;
            if (offset % RETAIN == RETAIN - 1) {
              base += list.size();
              list.clear();
            }
            return offset;
          }

          @Override
          public void close() {}
        };
      default:
        throw new IllegalArgumentException(impl.name());
    }
  }
}
