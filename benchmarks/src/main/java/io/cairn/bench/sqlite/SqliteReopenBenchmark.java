package io.cairn.bench.sqlite;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Open time against size: a single-shot open, one get and close of a Cairn SQLite backend holding
 * {@code entries} key-value entries (16-byte keys, 100-byte values), through the registry as a
 * service opens it with the default settings ({@code open-check = background}), beside raw
 * sqlite-jdbc opening the same file and reading one row ({@code RAW_SQLITE}).
 *
 * <p>The database is built once per {@code entries} under {@code -Dcairn.bench.reopenDir} (default
 * {@code /tmp/cairn-bench-sqlite-reopen}) in {@code entries-<n>/} and reused by later runs (a file
 * {@code built} marks a finished build; the build time is printed). 10M entries take about 1.5 GB.
 *
 * <pre>
 * flock /tmp/bench.lock java -jar benchmarks/target/benchmarks.jar SqliteReopenBenchmark \
 *     -rf json -rff sqlite-reopen.json
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class SqliteReopenBenchmark {
  /** Implementations; the baseline is the name not starting with CAIRN. */
  public enum Impl {
    CAIRN_SQLITE,
    RAW_SQLITE
  }

  @Param Impl impl;

  @Param({"100000", "1000000", "10000000"})
  int entries;

  Path dir;
  byte[] probe;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    Path base =
        Paths.get(System.getProperty("cairn.bench.reopenDir", "/tmp/cairn-bench-sqlite-reopen"));
    dir = base.resolve("entries-" + entries);
    probe = SqliteThreadsBenchmark.key(entries / 2);
    if (!Files.exists(dir.resolve("built"))) {
      if (Files.exists(dir)) {
        io.cairn.bench.BenchFiles.deleteTree(dir);
      }
      Files.createDirectories(dir);
      long started = System.nanoTime();
      try (PersistenceRegistry r = open()) {
        KeyValueStore kv = r.backend("bench").keyValue("bench");
        SplittableRandom random = new SplittableRandom(42);
        List<KeyValue> batch = new ArrayList<>();
        for (int i = 0; i < entries; i++) {
          byte[] v = new byte[100];
          random.nextBytes(v);
          batch.add(new KeyValue(SqliteThreadsBenchmark.key(i), v));
          if (batch.size() == 8192) {
            kv.putAll(batch);
            batch.clear();
          }
        }
        kv.putAll(batch);
      }
      Files.createFile(dir.resolve("built"));
      System.out.printf(
          "%nbuilt %,d entries in %s in %.1f s (%,d bytes)%n",
          entries,
          dir,
          (System.nanoTime() - started) / 1e9,
          Files.size(dir.resolve("data/cairn.db")));
    }
  }

  private PersistenceRegistry open() {
    return PersistenceRegistry.open(
        ConfigFactory.parseString(
            "cairn.backends.bench { type = sqlite, durability = normal, data-dir = "
                + ConfigUtil.quoteString(dir.resolve("data").toString())
                + " }"));
  }

  @Benchmark
  public Object openReadClose() throws SQLException {
    if (impl == Impl.CAIRN_SQLITE) {
      try (PersistenceRegistry r = open()) {
        byte[] v = r.backend("bench").keyValue("bench").get(probe);
        if (v == null) {
          throw new IllegalStateException("the probe key is missing");
        }
        return v;
      }
    }
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:sqlite:" + dir.resolve("data/cairn.db"),
                SqliteThreadsBenchmark.config(false).toProperties());
        PreparedStatement ps =
            c.prepareStatement("SELECT value FROM kv WHERE ns = 'bench' AND key = ?")) {
      ps.setBytes(1, probe);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("the probe key is missing");
        }
        return rs.getBytes(1);
      }
    }
  }
}
