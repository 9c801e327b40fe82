package io.cairn.bench.postgres;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * CAIRN / RAW on PostgreSQL measured in alternating short blocks, for a machine shared with other
 * work: JMH runs one implementation for seconds and then the other, so when the load changes in
 * between (it does, by several times, on a shared two-core machine) the ratio of two JMH scores
 * measures the load, not Cairn. Here each round times {@code block} operations of one
 * implementation and then {@code block} of the other, in ABBA order (the order flips every round),
 * so both see the same load; the ratio of each round is kept and their median reported, with the
 * quartiles. Same fixtures as {@link PostgresKeyValueBenchmark} (its setup, {@code get} and {@code
 * put} are called directly).
 *
 * <pre>
 * java -Dpg.url=jdbc:postgresql://localhost:55433/postgres -cp benchmarks.jar \
 *   io.cairn.bench.postgres.PostgresPairedRatio [rounds=40] [block=200]
 * </pre>
 */
public final class PostgresPairedRatio {
  private PostgresPairedRatio() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 40;
    int block = args.length > 1 ? Integer.parseInt(args[1]) : 200;
    System.out.printf(
        Locale.ROOT,
        "rounds=%d block=%d (ops per implementation per round), ABBA order%n",
        rounds,
        block);
    System.out.println(
        "op   durability  CAIRN ops/s  RAW ops/s  ratio median [q1, q3]"
            + "  client CPU us/op CAIRN  RAW");
    for (String durability : List.of("normal", "full")) {
      PostgresKeyValueBenchmark cairn = fixture(PostgresKeyValueBenchmark.Impl.CAIRN, durability);
      PostgresKeyValueBenchmark raw = fixture(PostgresKeyValueBenchmark.Impl.RAW, durability);
      try {
        for (String op : List.of("get", "put")) {
          // warm-up: one block each, not counted
          time(cairn, op, block, new double[2], 0);
          time(raw, op, block, new double[2], 1);
          double[] c = new double[rounds];
          double[] r = new double[rounds];
          double[] ratio = new double[rounds];
          double[] cpu = new double[2]; // client CPU nanoseconds: CAIRN, RAW
          for (int i = 0; i < rounds; i++) {
            if (i % 2 == 0) {
              c[i] = time(cairn, op, block, cpu, 0);
              r[i] = time(raw, op, block, cpu, 1);
            } else {
              r[i] = time(raw, op, block, cpu, 1);
              c[i] = time(cairn, op, block, cpu, 0);
            }
            ratio[i] = c[i] / r[i];
          }
          double ops = (double) rounds * block;
          System.out.printf(
              Locale.ROOT,
              "%-4s %-10s %11.0f %10.0f  %.2f [%.2f, %.2f]  %21.0f %4.0f%n",
              op,
              durability,
              quantile(c, 0.5),
              quantile(r, 0.5),
              quantile(ratio, 0.5),
              quantile(ratio, 0.25),
              quantile(ratio, 0.75),
              cpu[0] / ops / 1000,
              cpu[1] / ops / 1000);
        }
      } finally {
        cairn.tearDown();
        raw.tearDown();
      }
    }
  }

  private static PostgresKeyValueBenchmark fixture(
      PostgresKeyValueBenchmark.Impl impl, String durability) throws Exception {
    PostgresKeyValueBenchmark b = new PostgresKeyValueBenchmark();
    b.impl = impl;
    b.durability = durability;
    b.setUp();
    return b;
  }

  /**
   * Operations per second over {@code n} calls of {@code op}; adds this thread's CPU time to {@code
   * cpu[slot]} (the client's own work per operation, which the machine's load does not inflate the
   * way it inflates wall time).
   */
  private static double time(PostgresKeyValueBenchmark b, String op, int n, double[] cpu, int slot)
      throws Exception {
    java.lang.management.ThreadMXBean threads =
        java.lang.management.ManagementFactory.getThreadMXBean();
    long cpuStart = threads.getCurrentThreadCpuTime();
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      if (op.equals("get")) {
        b.get();
      } else {
        b.put();
      }
    }
    long elapsed = System.nanoTime() - start;
    cpu[slot] += threads.getCurrentThreadCpuTime() - cpuStart;
    return n * 1e9 / elapsed;
  }

  private static double quantile(double[] values, double q) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[(int) Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))];
  }
}
