package io.cairn.bench.sqlite;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Random;

/**
 * A noise-resistant companion to {@link SqliteKeyValueBenchmark} for shared machines: runs Cairn
 * and raw sqlite-jdbc in alternating rounds in one thread and reports per-operation <i>thread CPU
 * time</i> (user + system, which other processes' load barely changes) beside wall time. Same keys,
 * values and settings as the JMH benchmark.
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar io.cairn.bench.sqlite.SqliteCpuRatio
 * [rounds]}
 */
public final class SqliteCpuRatio {
  private SqliteCpuRatio() {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 8;
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    int keyCount = SqliteKeyValueBenchmark.KEYS;
    Random random = new Random(42);
    byte[][] keys = new byte[keyCount][];
    for (int i = 0; i < keyCount; i++) {
      keys[i] = String.format("key:%08d", random.nextInt(100_000_000)).getBytes();
    }
    byte[] value = new byte[100];
    random.nextBytes(value);
    SqliteBench[] impls = {
      SqliteBench.open(SqliteBench.Impl.CAIRN_SQLITE, "normal"),
      SqliteBench.open(SqliteBench.Impl.RAW_JDBC, "normal")
    };
    String[] names = {"CAIRN_SQLITE", "RAW_JDBC"};
    try {
      for (SqliteBench b : impls) {
        b.preload(keys, value);
      }
      int n = 20_000;
      int next = 0;
      double[][] cpu = new double[2][2];
      for (int round = 0; round < rounds; round++) {
        StringBuilder line = new StringBuilder("round " + round + ":");
        for (int op = 0; op < 2; op++) {
          for (int i = 0; i < 2; i++) {
            long c0 = mx.getCurrentThreadCpuTime();
            long w0 = System.nanoTime();
            for (int j = 0; j < n; j++) {
              byte[] k = keys[next++ & (keyCount - 1)];
              if (op == 0) {
                impls[i].put(k, value);
              } else if (impls[i].get(k) == null) {
                throw new IllegalStateException("missing key");
              }
            }
            double c = (mx.getCurrentThreadCpuTime() - c0) / 1000.0 / n;
            double w = (System.nanoTime() - w0) / 1000.0 / n;
            if (round > 0) {
              cpu[op][i] += c;
            }
            line.append(
                String.format(
                    "  %s %s cpu %.1fus wall %.1fus", names[i], op == 0 ? "put" : "get", c, w));
          }
        }
        System.out.println(line);
      }
      if (rounds > 1) {
        System.out.printf(
            "mean CPU per op after round 0: put %.1fus vs %.1fus (%.2fx), get %.1fus vs %.1fus"
                + " (%.2fx)%n",
            cpu[0][0] / (rounds - 1),
            cpu[0][1] / (rounds - 1),
            cpu[0][1] / cpu[0][0],
            cpu[1][0] / (rounds - 1),
            cpu[1][1] / (rounds - 1),
            cpu[1][1] / cpu[1][0]);
      }
    } finally {
      for (SqliteBench b : impls) {
        b.close();
      }
    }
  }
}
