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
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Thread CPU per get and per put, Cairn beside raw, in one JVM, interleaved: the noise-resistant
 * companion of {@link SqliteThreadsBenchmark} (same data: 100,000 keys of 16 bytes, 100-byte
 * values, Cairn through the registry at durability {@code normal} loaded with {@code putAll} pages
 * of 4,096; raw = the benchmark's own {@code Raw}: one writer under a lock, one read-only
 * connection per thread; every put writes a value that differs from the stored one). Each round
 * runs every side of one operation in turn on the same {@code threads} threads, alternating which
 * side goes first, and reports the sum of the worker threads' CPU time per operation (what other
 * processes' load changes least), the process's CPU per operation (adds background threads) and
 * operations per second. Round 0 is warm-up; the summary gives the median of the others.
 *
 * <p>{@code DIRECT} (gets only) is Cairn's engine call without Cairn's code: the statement Cairn's
 * engine runs ({@code SqliteEngine.GET} on its {@code rec} table) run the way {@code Conn.queryRow}
 * runs it, on a read-only connection per thread to Cairn's own {@code cairn.db}. So CAIRN / DIRECT
 * is what Cairn's Java around the engine costs; DIRECT / RAW what its layout costs.
 *
 * <p>Usage: {@code flock /tmp/bench.lock java -cp benchmarks/target/benchmarks.jar
 * io.cairn.bench.sqlite.SqliteOpCpu [threads] [rounds] [opsPerThreadPerRound] [get|put|both]}
 * (defaults 1, 7, 20000, both).
 */
public final class SqliteOpCpu {
  private SqliteOpCpu() {}

  /** One thread's operation on key {@code k}; {@code n} is the thread's operation counter. */
  @FunctionalInterface
  interface Op {
    void run(byte[] k, int n) throws Exception;
  }

  static final String DIRECT_GET = "SELECT value FROM rec WHERE kind = ? AND store = ? AND key = ?";

  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
    int n = args.length > 2 ? Integer.parseInt(args[2]) : 20_000;
    String which = args.length > 3 ? args[3] : "both";
    int keys = 100_000;
    Path dir = Files.createTempDirectory("cairn-bench-sqlite-opcpu");
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

      List<String> names = new ArrayList<>();
      List<Op[]> ops = new ArrayList<>();
      if (!which.equals("put")) {
        Op[] cairnGet = new Op[threads];
        Op[] rawGet = new Op[threads];
        Op[] directGet = new Op[threads];
        for (int t = 0; t < threads; t++) {
          cairnGet[t] = (k, c) -> check(store.get(k));
          SqliteThreadsBenchmark.RawReader r = raw.reader();
          toClose.add(0, r);
          rawGet[t] = (k, c) -> check(r.get(k));
          directGet[t] = direct(cairnDb, toClose);
        }
        names.addAll(List.of("get CAIRN", "get RAW", "get DIRECT"));
        ops.addAll(List.of(cairnGet, rawGet, directGet));
      }
      if (!which.equals("get")) {
        Op[] cairnPut = new Op[threads];
        Op[] rawPut = new Op[threads];
        for (int t = 0; t < threads; t++) {
          byte[] v = new byte[100];
          new SplittableRandom(t).nextBytes(v);
          cairnPut[t] = (k, c) -> store.put(k, stamp(v, c));
          byte[] w = v.clone();
          rawPut[t] = (k, c) -> raw.put(k, stamp(w, c));
        }
        names.addAll(List.of("put CAIRN", "put RAW"));
        ops.addAll(List.of(cairnPut, rawPut));
      }

      ThreadMXBean mx = ManagementFactory.getThreadMXBean();
      OperatingSystemMXBean os =
          (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      int sides = names.size();
      double[][] cpu = new double[sides][rounds];
      double[][] proc = new double[sides][rounds];
      double[][] rate = new double[sides][rounds];
      int[] counters = new int[threads];
      for (int round = 0; round < rounds; round++) {
        StringBuilder line = new StringBuilder("round " + round + ":");
        for (int j = 0; j < sides; j++) {
          // alternate the order of the sides of one operation from round to round
          int s = round % 2 == 0 ? j : order(names, j);
          Op[] op = ops.get(s);
          List<Future<Long>> done = new ArrayList<>();
          long p0 = os.getProcessCpuTime();
          long w0 = System.nanoTime();
          for (int t = 0; t < threads; t++) {
            int thread = t;
            long seed = 31L * t + round;
            done.add(
                pool.submit(
                    () -> {
                      SplittableRandom random = new SplittableRandom(seed);
                      Op o = op[thread];
                      long c0 = mx.getCurrentThreadCpuTime();
                      for (int i = 0; i < n; i++) {
                        o.run(keySpace[random.nextInt(keys)], ++counters[thread]);
                      }
                      return mx.getCurrentThreadCpuTime() - c0;
                    }));
          }
          long threadCpu = 0;
          for (Future<Long> f : done) {
            threadCpu += f.get();
          }
          double total = (double) n * threads;
          cpu[s][round] = threadCpu / 1000.0 / total;
          proc[s][round] = (os.getProcessCpuTime() - p0) / 1000.0 / total;
          rate[s][round] = total / ((System.nanoTime() - w0) / 1e9);
          line.append(String.format("  %s %.2fus", names.get(s), cpu[s][round]));
        }
        System.out.println(line);
      }
      System.out.printf(
          "threads %d, median of rounds 1-%d, %d ops per thread per round; load %.2f%n",
          threads, rounds - 1, n, os.getSystemLoadAverage());
      System.out.printf(
          "%-11s %14s %15s %10s%n", "side", "thread CPU/op", "process CPU/op", "ops/s");
      for (int s = 0; s < sides; s++) {
        System.out.printf(
            "%-11s %12.2fus %13.2fus %10.0f%n",
            names.get(s), median(cpu[s]), median(proc[s]), median(rate[s]));
      }
      for (int s = 0; s < sides; s++) {
        String name = names.get(s);
        if (name.endsWith("CAIRN")) {
          String op = name.substring(0, 3);
          int rawSide = names.indexOf(op + " RAW");
          System.out.printf(
              "%s RAW/CAIRN by thread CPU %.3f (per round: %s)%n",
              op, median(cpu[rawSide]) / median(cpu[s]), perRound(cpu[rawSide], cpu[s]));
          int directSide = names.indexOf(op + " DIRECT");
          if (directSide >= 0) {
            System.out.printf(
                "%s DIRECT/CAIRN %.3f, RAW/DIRECT %.3f%n",
                op,
                median(cpu[directSide]) / median(cpu[s]),
                median(cpu[rawSide]) / median(cpu[directSide]));
          }
        }
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

  /** The side run at position {@code j} on odd rounds: the sides of each operation reversed. */
  private static int order(List<String> names, int j) {
    String op = names.get(j).substring(0, 3);
    int first = -1;
    int last = -1;
    for (int i = 0; i < names.size(); i++) {
      if (names.get(i).startsWith(op)) {
        if (first < 0) {
          first = i;
        }
        last = i;
      }
    }
    return first + last - j;
  }

  private static byte[] stamp(byte[] v, int n) {
    v[0] = (byte) n;
    v[1] = (byte) (n >>> 8);
    v[2] = (byte) (n >>> 16);
    v[3] = (byte) (n >>> 24);
    return v;
  }

  private static void check(byte[] v) {
    if (v == null) {
      throw new IllegalStateException("a preloaded key is missing");
    }
  }

  private static double median(double[] perRound) {
    double[] counted = Arrays.copyOfRange(perRound, 1, perRound.length);
    Arrays.sort(counted);
    int m = counted.length / 2;
    return counted.length % 2 == 1 ? counted[m] : (counted[m - 1] + counted[m]) / 2;
  }

  private static String perRound(double[] raw, double[] cairn) {
    StringBuilder out = new StringBuilder();
    for (int r = 1; r < raw.length; r++) {
      out.append(String.format(r == 1 ? "%.2f" : " %.2f", raw[r] / cairn[r]));
    }
    return out.toString();
  }

  /** Cairn's engine get as {@code Conn.queryRow} runs it, on a read-only connection of its own. */
  private static Op direct(Path file, List<AutoCloseable> toClose) throws SQLException {
    Connection conn =
        DriverManager.getConnection(
            "jdbc:sqlite:" + file, SqliteThreadsBenchmark.config(true).toProperties());
    toClose.add(conn);
    PreparedStatement ps = conn.prepareStatement(DIRECT_GET);
    toClose.add(0, ps);
    org.sqlite.core.CoreStatement st = (org.sqlite.core.CoreStatement) ps;
    org.sqlite.core.DB db = st.getDatabase();
    return (k, c) -> {
      synchronized (db) {
        if (!db.execute(st, new Object[] {0, "bench", k})) {
          throw new IllegalStateException("a preloaded key is missing");
        }
        long stmt = st.pointer.safeRunLong((d, p) -> p);
        try {
          check(db.column_blob(stmt, 0));
        } finally {
          db.reset(stmt);
        }
      }
    };
  }
}
