package io.cairn.bench.postgres;

import com.typesafe.config.ConfigFactory;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
 * Single-threaded key-value put and get on PostgreSQL: Cairn's postgres backend beside raw pgjdbc
 * (through the same HikariCP pool settings) running the same SQL on an identical table, in one run.
 * 16 Ki keys of 12 bytes with 100-byte values are preloaded; put overwrites existing keys with a
 * changed value, get reads existing keys.
 *
 * <p>RAW runs Cairn's own statements ({@code SELECT value, version, expires_at, crc FROM kv WHERE
 * ns = ? AND key = ?} and the conditional {@code INSERT ... ON CONFLICT DO UPDATE ... WHERE
 * kv.version < EXCLUDED.version}) with a local version counter and no checksum work; the difference
 * is what Cairn adds (argument checks, row CRC-32C, version blocks, the close guard, the registry's
 * timers).
 *
 * <p>{@code SQLITE} and {@code ROCKSDB} run the same get and put on Cairn's embedded backends in a
 * temp directory, for context in the same run (in-process calls, no network round trip).
 *
 * <p>Needs a running server: {@code -Dpg.url=jdbc:postgresql://localhost:5432/postgres} (user
 * {@code -Dpg.user}, default {@code postgres}; trust authentication). See {@code
 * benchmarks/RESULTS-postgres.md} for how it was started.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class PostgresKeyValueBenchmark {
  static final int KEYS = 1 << 14;
  static final int MASK = KEYS - 1;

  /**
   * The implementations measured side by side: Cairn on PostgreSQL, raw pgjdbc on the same server,
   * and, for context, Cairn's embedded backends (in-process, no round trip) in a temp directory.
   */
  public enum Impl {
    CAIRN,
    RAW,
    SQLITE,
    ROCKSDB
  }

  @Param Impl impl;

  @Param({"normal", "full"})
  String durability;

  byte[][] keys;
  byte[] value;
  int next;

  PersistenceRegistry registry;
  java.nio.file.Path embeddedDir;
  KeyValueStore kv;
  HikariDataSource raw;
  final AtomicLong rawVersion = new AtomicLong(1);

  static String url() {
    String url = System.getProperty("pg.url");
    if (url == null) {
      throw new IllegalStateException(
          "Set -Dpg.url=jdbc:postgresql://host:port/db to a running PostgreSQL server");
    }
    return url;
  }

  static String user() {
    return System.getProperty("pg.user", "postgres");
  }

  static PersistenceRegistry cairn(String schema, String durability) {
    return PersistenceRegistry.builder()
        .open(
            ConfigFactory.parseString(
                "cairn.backends.bench { type = postgres, jdbc-url = \""
                    + url()
                    + "\", user = "
                    + user()
                    + ", schema = "
                    + schema
                    + ", durability = "
                    + durability
                    + ", sweeper-interval = 0s }"));
  }

  static void dropSchema(String schema) throws SQLException {
    try (Connection c = java.sql.DriverManager.getConnection(url(), user(), "");
        Statement st = c.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws SQLException {
    Random random = new Random(42);
    keys = new byte[KEYS][];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = String.format("key:%08d", random.nextInt(100_000_000)).getBytes();
    }
    value = new byte[100];
    random.nextBytes(value);
    String schema = "bench_" + impl.name().toLowerCase(java.util.Locale.ROOT);
    if (impl == Impl.SQLITE || impl == Impl.ROCKSDB) {
      try {
        embeddedDir = java.nio.file.Files.createTempDirectory("cairn-bench-" + schema);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      registry =
          PersistenceRegistry.builder()
              .baseDirectory(embeddedDir)
              .open(
                  ConfigFactory.parseString(
                      "cairn.backends.bench { type = "
                          + impl.name().toLowerCase(java.util.Locale.ROOT)
                          + ", durability = "
                          + durability
                          + ", data-dir = data }"));
    } else {
      dropSchema(schema);
      registry = cairn(schema, durability); // creates the tables, also those RAW uses
    }
    kv = registry.backend("bench").keyValue("bench");
    List<KeyValue> rows = new ArrayList<>();
    for (byte[] k : keys) {
      rows.add(new KeyValue(k, value));
      if (rows.size() == 4096) {
        kv.putAll(rows);
        rows.clear();
      }
    }
    kv.putAll(rows);
    if (impl == Impl.RAW) {
      registry.close();
      registry = null;
      HikariConfig hc = new HikariConfig();
      hc.setJdbcUrl(url());
      hc.setUsername(user());
      hc.setMaximumPoolSize(10);
      hc.setMinimumIdle(2);
      hc.setConnectionInitSql(
          "SET search_path TO "
              + schema
              + "; SET synchronous_commit TO "
              + ("full".equals(durability) ? "on" : "off"));
      raw = new HikariDataSource(hc);
      try (Connection c = raw.getConnection();
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT max(version) FROM kv")) {
        rs.next();
        rawVersion.set(rs.getLong(1) + 1);
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (registry != null) {
      registry.close();
    }
    if (raw != null) {
      raw.close();
    }
    if (embeddedDir != null) {
      try (var files = java.nio.file.Files.walk(embeddedDir)) {
        for (java.nio.file.Path p :
            (Iterable<java.nio.file.Path>)
                files.sorted(java.util.Comparator.reverseOrder())::iterator) {
          java.nio.file.Files.deleteIfExists(p);
        }
      } catch (java.io.IOException e) {
        System.err.println("could not delete " + embeddedDir + ": " + e);
      }
    }
  }

  @Benchmark
  public byte[] get() throws SQLException {
    byte[] key = keys[next++ & MASK];
    if (impl != Impl.RAW) {
      return kv.get(key);
    }
    try (Connection c = raw.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT value, version, expires_at, crc FROM kv WHERE ns = ? AND key = ?")) {
      ps.setString(1, "bench");
      ps.setBytes(2, key);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getBytes(1) : null;
      }
    }
  }

  @Benchmark
  public long put() throws SQLException {
    int n = next++;
    value[0] = (byte) n;
    value[1] = (byte) (n >>> 8);
    value[2] = (byte) (n >>> 16);
    value[3] = (byte) (n >>> 24);
    byte[] key = keys[n & MASK];
    if (impl != Impl.RAW) {
      return kv.put(key, value);
    }
    long version = rawVersion.getAndIncrement();
    try (Connection c = raw.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO kv (ns, key, value, version, expires_at, crc)"
                    + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET"
                    + " value = EXCLUDED.value, version = EXCLUDED.version,"
                    + " expires_at = EXCLUDED.expires_at, crc = EXCLUDED.crc"
                    + " WHERE kv.version < EXCLUDED.version")) {
      ps.setString(1, "bench");
      ps.setBytes(2, key);
      ps.setBytes(3, value);
      ps.setLong(4, version);
      ps.setLong(5, 0);
      ps.setInt(6, 0);
      ps.executeUpdate();
    }
    return version;
  }
}
