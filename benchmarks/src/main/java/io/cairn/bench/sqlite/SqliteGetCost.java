package io.cairn.bench.sqlite;

import com.sun.management.OperatingSystemMXBean;
import io.cairn.bench.BenchFiles;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.sqlite.core.StatementProbe;

/**
 * Where a Cairn SQLite get spends its time, against {@link SqliteThreadsBenchmark}'s raw baseline:
 * paired rounds (every variant in turn, in one JVM, on the same threads) of {@code threads} threads
 * doing random point gets over 100,000 preloaded 16-byte keys with 100-byte values, reporting
 * thread CPU time per get (which other processes' load changes far less than throughput) and the
 * process's CPU per get (adds Cairn's background threads). The variants peel off one difference at
 * a time:
 *
 * <ul>
 *   <li>{@code CAIRN}: {@code KeyValueStore.get} through the registry (durability normal).
 *   <li>{@code RAW}: the raw baseline, {@code SELECT value FROM kv WHERE key = ?} on its own table
 *       {@code kv(key, value) WITHOUT ROWID}, one read-only connection per thread, its writer open.
 *   <li>{@code RAW_ON_CAIRN_1}: the same JDBC code on Cairn's own {@code cairn.db} (its writer
 *       open), {@code SELECT value FROM kv WHERE ns = ? AND key = ?}: Cairn's table and file.
 *   <li>{@code RAW_ON_CAIRN_4}: as above with Cairn's exact statement, {@code SELECT value,
 *       version, expires_at, crc ...}: everything Cairn's engine call does, without Cairn's code
 *       around it.
 *   <li>{@code DIRECT_ON_CAIRN_4}: Cairn's statement run the way Cairn's get runs it since issue 15
 *       ({@code Conn.queryRow}: sqlite-jdbc's public {@code DB.execute}, one native call per
 *       column, no result set), on a connection per thread: Cairn's get minus Cairn's code.
 *   <li>{@code PROBE_RAW}, {@code PROBE_ON_CAIRN_4}: {@code RAW} and {@code RAW_ON_CAIRN_4} through
 *       sqlite-jdbc's internal statement layer ({@link StatementProbe}: bind, step, column, reset;
 *       no JDBC result set), i.e. the native engine's share.
 * </ul>
 *
 * <p>Usage: {@code flock /tmp/bench.lock java -cp benchmarks/target/benchmarks.jar
 * io.cairn.bench.sqlite.SqliteGetCost [threads] [rounds] [getsPerThreadPerRound]} (defaults 4, 8,
 * 20000). Round 0 is warm-up and not counted.
 */
public final class SqliteGetCost {
  private SqliteGetCost() {}

  /** One thread's get. */
  @FunctionalInterface
  interface Getter {
    byte[] get(byte[] key) throws SQLException;
  }

  enum Variant {
    CAIRN,
    RAW,
    RAW_ON_CAIRN_1,
    RAW_ON_CAIRN_4,
    PROBE_RAW,
    PROBE_ON_CAIRN_4,
    DIRECT_ON_CAIRN_4
  }

  static final String CAIRN_GET =
      "SELECT value, version, expires_at, crc FROM kv WHERE ns = ? AND key = ?";

  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 4;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int n = args.length > 2 ? Integer.parseInt(args[2]) : 20_000;
    int keys = 100_000;
    Path dir = Files.createTempDirectory("cairn-bench-sqlite-getcost");
    byte[][] keySpace = SqliteThreadsBenchmark.keySpace(keys);
    byte[] value = SqliteThreadsBenchmark.preloadValue();
    List<AutoCloseable> toClose = new ArrayList<>();
    PersistenceRegistry registry = SqliteThreadsBenchmark.open(dir);
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      KeyValueStore store = registry.backend("bench").keyValue("bench");
      SqliteThreadsBenchmark.preload(store, keySpace, value);
      SqliteThreadsBenchmark.Raw raw = new SqliteThreadsBenchmark.Raw(dir.resolve("raw.db"));
      toClose.add(raw);
      raw.preload(keySpace, value);
      Path cairnDb = dir.resolve("data").resolve("cairn.db");
      Path rawDb = dir.resolve("raw.db");
      Variant[] variants = Variant.values();
      Getter[][] getters = new Getter[variants.length][threads];
      for (int t = 0; t < threads; t++) {
        getters[Variant.CAIRN.ordinal()][t] = store::get;
        getters[Variant.RAW.ordinal()][t] =
            jdbc(rawDb, "SELECT value FROM kv WHERE key = ?", false, 0, toClose);
        getters[Variant.RAW_ON_CAIRN_1.ordinal()][t] =
            jdbc(cairnDb, "SELECT value FROM kv WHERE ns = ? AND key = ?", true, 0, toClose);
        getters[Variant.RAW_ON_CAIRN_4.ordinal()][t] = jdbc(cairnDb, CAIRN_GET, true, 3, toClose);
        getters[Variant.PROBE_RAW.ordinal()][t] =
            probe(rawDb, "SELECT value FROM kv WHERE key = ?", null, 0, toClose);
        getters[Variant.PROBE_ON_CAIRN_4.ordinal()][t] =
            probe(cairnDb, CAIRN_GET, "bench", 3, toClose);
        getters[Variant.DIRECT_ON_CAIRN_4.ordinal()][t] = direct(cairnDb, toClose);
      }
      ThreadMXBean mx = ManagementFactory.getThreadMXBean();
      OperatingSystemMXBean os =
          (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      double[] cpu = new double[variants.length];
      double[] proc = new double[variants.length];
      double[] rate = new double[variants.length];
      for (int round = 0; round < rounds; round++) {
        StringBuilder line = new StringBuilder("round " + round + ":");
        for (Variant v : variants) {
          List<Future<Long>> done = new ArrayList<>();
          long p0 = os.getProcessCpuTime();
          long w0 = System.nanoTime();
          for (int t = 0; t < threads; t++) {
            Getter g = getters[v.ordinal()][t];
            long seed = 31L * t + round;
            done.add(
                pool.submit(
                    () -> {
                      SplittableRandom random = new SplittableRandom(seed);
                      long c0 = mx.getCurrentThreadCpuTime();
                      for (int j = 0; j < n; j++) {
                        if (g.get(keySpace[random.nextInt(keys)]) == null) {
                          throw new IllegalStateException(v + ": a preloaded key is missing");
                        }
                      }
                      return mx.getCurrentThreadCpuTime() - c0;
                    }));
          }
          long threadCpu = 0;
          for (Future<Long> f : done) {
            threadCpu += f.get();
          }
          double ops = (double) n * threads;
          double c = threadCpu / 1000.0 / ops;
          double pc = (os.getProcessCpuTime() - p0) / 1000.0 / ops;
          double r = ops / ((System.nanoTime() - w0) / 1e9);
          if (round > 0) {
            cpu[v.ordinal()] += c;
            proc[v.ordinal()] += pc;
            rate[v.ordinal()] += r;
          }
          line.append(String.format(" %s %.2fus", v, c));
        }
        System.out.println(line);
      }
      int counted = Math.max(1, rounds - 1);
      double rawCpu = cpu[Variant.RAW.ordinal()];
      System.out.printf(
          "threads %d, %d counted rounds of %d gets per thread%n", threads, counted, n);
      System.out.printf(
          "%-17s %14s %15s %10s %16s%n",
          "variant", "thread CPU/get", "process CPU/get", "gets/s", "RAW/variant CPU");
      for (Variant v : variants) {
        int i = v.ordinal();
        System.out.printf(
            "%-17s %12.2fus %13.2fus %10.0f %16.2f%n",
            v, cpu[i] / counted, proc[i] / counted, rate[i] / counted, rawCpu / cpu[i]);
      }
    } finally {
      pool.shutdownNow();
      for (AutoCloseable c : toClose) {
        c.close();
      }
      registry.close();
      BenchFiles.deleteTree(dir);
    }
  }

  private static Connection reader(Path file, List<AutoCloseable> toClose) throws SQLException {
    Connection conn =
        DriverManager.getConnection(
            "jdbc:sqlite:" + file, SqliteThreadsBenchmark.config(true).toProperties());
    toClose.add(conn);
    return conn;
  }

  /** A JDBC getter on its own read-only connection, reading {@code longColumns} after the value. */
  private static Getter jdbc(
      Path file, String sql, boolean withNs, int longColumns, List<AutoCloseable> toClose)
      throws SQLException {
    PreparedStatement ps = reader(file, toClose).prepareStatement(sql);
    toClose.add(0, ps);
    return key -> {
      int i = 1;
      if (withNs) {
        ps.setString(i++, "bench");
      }
      ps.setBytes(i, key);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        byte[] v = rs.getBytes(1);
        long sum = 0;
        for (int c = 2; c <= longColumns + 1; c++) {
          sum += rs.getLong(c);
        }
        return sum == Long.MIN_VALUE ? null : v;
      }
    };
  }

  /**
   * Cairn's engine call as {@code Conn.queryRow} makes it (sqlite-jdbc's public statement layer:
   * {@code DB.execute} binds and steps, one native call per column, reset), on its own read-only
   * connection: Cairn's get without Cairn's code around it.
   */
  private static Getter direct(Path file, List<AutoCloseable> toClose) throws SQLException {
    PreparedStatement ps = reader(file, toClose).prepareStatement(CAIRN_GET);
    toClose.add(0, ps);
    org.sqlite.core.CoreStatement st = (org.sqlite.core.CoreStatement) ps;
    org.sqlite.core.DB db = st.getDatabase();
    return key -> {
      synchronized (db) {
        if (!db.execute(st, new Object[] {"bench", key})) {
          return null;
        }
        long stmt = st.pointer.safeRunLong((d, p) -> p);
        try {
          byte[] v = db.column_blob(stmt, 0);
          long sum = db.column_long(stmt, 1) + db.column_long(stmt, 2) + db.column_long(stmt, 3);
          return sum == Long.MIN_VALUE ? null : v;
        } finally {
          db.reset(stmt);
        }
      }
    };
  }

  private static Getter probe(
      Path file, String sql, String ns, int longColumns, List<AutoCloseable> toClose)
      throws SQLException {
    StatementProbe p = new StatementProbe(reader(file, toClose), sql, ns, longColumns);
    toClose.add(0, p);
    return p::get;
  }
}
