package io.cairn.bench.rocksdb;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A diagnostic, not a JMH benchmark: where do the worker threads of {@link RocksDbThreadsBenchmark}
 * spend their wall-clock time, Cairn beside raw rocksdbjni? Each worker reads its own Linux {@code
 * /proc/thread-self/schedstat} and {@code status} before and after a round, which splits its time
 * into running, waiting for a CPU (runnable) and off the run queue (blocked: futex, sleep), and
 * counts its voluntary and involuntary context switches. Beside that, the machine's idle CPU over
 * the round ({@code /proc/stat}) and the process CPU per operation. A side that loses throughput
 * beyond its CPU per operation shows it here: its workers block while CPUs go idle.
 *
 * <pre>
 * flock /tmp/bench.lock java -cp benchmarks/target/benchmarks.jar \
 *   io.cairn.bench.rocksdb.RocksDbThreadStates 8 2 6 put cairn raw
 * </pre>
 *
 * Arguments: threads, seconds per round, rounds (round 0 is warm-up, not reported), operation
 * ({@code put} or {@code get}), targets ({@code cairn}: through the registry, as the JMH benchmark;
 * {@code cairn-bare}: the backend through its provider; {@code raw}: {@link RawRocks}; any of them
 * with {@code +clock}: with the registry's {@code CoarseClock} running during its rounds). Targets
 * run in turn within a round, the order rotated every round. 100k preloaded 16-byte keys, 100-byte
 * values, {@code durability = none}.
 */
public final class RocksDbThreadStates {
  private RocksDbThreadStates() {}

  /** One worker's counters: ns running, ns runnable, voluntary and involuntary switches. */
  record Sched(long run, long queued, long vol, long invol) {
    static Sched now() {
      try {
        String[] s = Files.readString(Path.of("/proc/thread-self/schedstat")).trim().split(" ");
        long vol = 0;
        long invol = 0;
        for (String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
          if (line.startsWith("voluntary_ctxt_switches:")) {
            vol = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
          } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
            invol = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
          }
        }
        return new Sched(Long.parseLong(s[0]), Long.parseLong(s[1]), vol, invol);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    Sched minus(Sched o) {
      return new Sched(run - o.run, queued - o.queued, vol - o.vol, invol - o.invol);
    }
  }

  /** Machine CPU ticks: idle (idle + iowait) and total, over all CPUs. */
  static long[] machineTicks() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length; i++) {
        total += Long.parseLong(f[i]);
      }
      return new long[] {Long.parseLong(f[4]) + Long.parseLong(f[5]), total};
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * CPU ns of every thread of this process so far but the workers, summed by kind ({@link #kind} of
   * its name), so a round's difference shows who used the CPU beside the workers (JIT compilers,
   * GC, RocksDB's background threads, Cairn's own). Background threads serve every target open in
   * the JVM, not only the one whose round it is: compare kinds between JVMs with one target each.
   */
  static java.util.Map<String, Long> cpuByKind() {
    java.util.Map<String, Long> m = new java.util.TreeMap<>();
    try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        try {
          String comm = Files.readString(t.resolve("comm")).trim();
          if (comm.startsWith("states-")) {
            continue; // workers start and end inside the round: they measure themselves
          }
          long run = Long.parseLong(Files.readString(t.resolve("schedstat")).trim().split(" ")[0]);
          m.merge(kind(comm), run, Long::sum);
        } catch (IOException e) {
          // the thread ended between the listing and the read: its time is gone from both sides
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return m;
  }

  static String kind(String comm) {
    if (comm.startsWith("C1 ") || comm.startsWith("C2 ")) {
      return "jit";
    }
    if (comm.startsWith("GC ") || comm.startsWith("G1 ")) {
      return "gc";
    }
    if (comm.startsWith("rocksdb")) {
      return "rocksdb-bg";
    }
    if (comm.startsWith("cairn")) {
      return "cairn-bg";
    }
    return "other";
  }

  static final class Totals {
    final java.util.Map<String, Long> byKind = new java.util.TreeMap<>();

    long ops;
    long wall;
    long threadWall;
    long cpu;
    long run;
    long wait;
    long vol;
    long invol;
    long idle;
    long ticks;
  }

  public static void main(String[] a) throws Exception {
    int threads = Integer.parseInt(a[0]);
    double secs = Double.parseDouble(a[1]);
    int rounds = Integer.parseInt(a[2]);
    boolean put = a[3].equals("put");
    if (!put && !a[3].equals("get")) {
      throw new IllegalArgumentException("operation must be put or get, got " + a[3]);
    }
    List<String> names = List.of(a).subList(4, a.length);
    int keys = 100_000;
    byte[][] ks = new byte[keys][];
    for (int i = 0; i < keys; i++) {
      ks[i] = RocksDbThreadsBenchmark.key(i);
    }
    byte[] value = new byte[100];
    new Random(42).nextBytes(value);
    List<RocksDbKeyValueBenchmark.Kv> kvs = new ArrayList<>();
    for (String n : names) {
      RocksDbKeyValueBenchmark.Impl impl =
          switch (n.replace("+clock", "")) {
            case "cairn" -> RocksDbKeyValueBenchmark.Impl.CAIRN_ROCKSDB;
            case "cairn-bare" -> RocksDbKeyValueBenchmark.Impl.CAIRN_ROCKSDB_BARE;
            case "raw" -> RocksDbKeyValueBenchmark.Impl.RAW_ROCKSDB;
            default -> throw new IllegalArgumentException("unknown target " + n);
          };
      RocksDbKeyValueBenchmark.Kv kv = RocksDbKeyValueBenchmark.open(impl, "none");
      for (byte[] k : ks) {
        kv.put(k, value);
      }
      kvs.add(kv);
    }
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    Totals[] totals = new Totals[names.size()];
    for (int i = 0; i < totals.length; i++) {
      totals[i] = new Totals();
    }
    for (int r = 0; r < rounds; r++) {
      for (int j = 0; j < names.size(); j++) {
        int t = (j + r) % names.size();
        RocksDbKeyValueBenchmark.Kv kv = kvs.get(t);
        // "+clock": the registry's coarse clock (a thread refreshing two fields every
        // millisecond) runs during this target's rounds, as it does beside a registry
        io.cairn.persistence.spi.CoarseClock clock =
            names.get(t).endsWith("+clock") ? io.cairn.persistence.spi.CoarseClock.acquire() : null;
        AtomicBoolean stop = new AtomicBoolean();
        long[] ops = new long[threads];
        long[] walls = new long[threads];
        Sched[] sched = new Sched[threads];
        Thread[] th = new Thread[threads];
        for (int i = 0; i < threads; i++) {
          int w = i;
          long seed = 0x9E3779B97F4A7C15L * (i + 2);
          th[i] =
              new Thread(
                  () -> {
                    long x = seed;
                    long c = 0;
                    Sched s0 = Sched.now();
                    long w0 = System.nanoTime();
                    while (!stop.get()) {
                      for (int k = 0; k < 64; k++) {
                        x ^= x << 13;
                        x ^= x >>> 7;
                        x ^= x << 17;
                        byte[] key = ks[(int) ((x >>> 1) % keys)];
                        if (put) {
                          kv.put(key, value);
                        } else {
                          kv.get(key);
                        }
                        c++;
                      }
                    }
                    walls[w] = System.nanoTime() - w0;
                    sched[w] = Sched.now().minus(s0);
                    ops[w] = c;
                  },
                  "states-" + i);
        }
        java.util.Map<String, Long> k0 = cpuByKind();
        long[] m0 = machineTicks();
        long c0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        for (Thread x : th) {
          x.start();
        }
        Thread.sleep((long) (secs * 1000));
        stop.set(true);
        for (Thread x : th) {
          x.join();
        }
        long el = System.nanoTime() - t0;
        long cpu = os.getProcessCpuTime() - c0;
        long[] m1 = machineTicks();
        java.util.Map<String, Long> k1 = cpuByKind();
        if (clock != null) {
          clock.release();
        }
        if (r == 0) {
          continue;
        }
        Totals tt = totals[t];
        long n = 0;
        for (int i = 0; i < threads; i++) {
          n += ops[i];
          tt.threadWall += walls[i];
          tt.run += sched[i].run();
          tt.wait += sched[i].queued();
          tt.vol += sched[i].vol();
          tt.invol += sched[i].invol();
        }
        tt.ops += n;
        for (var e : k1.entrySet()) {
          tt.byKind.merge(e.getKey(), e.getValue() - k0.getOrDefault(e.getKey(), 0L), Long::sum);
        }
        tt.wall += el;
        tt.cpu += cpu;
        tt.idle += m1[0] - m0[0];
        tt.ticks += m1[1] - m0[1];
        System.out.printf(
            Locale.ROOT,
            "round %d %-10s %,10.0f ops/s  process cpu %5.2f us/op  machine idle %4.1f%%%n",
            r,
            names.get(t),
            n / (el / 1e9),
            cpu / 1e3 / n,
            100.0 * (m1[0] - m0[0]) / Math.max(1, m1[1] - m0[1]));
      }
    }
    System.out.println(
        "== target      ops/s     proc-cpu/op  cores  idle%  | per op, workers (us): running"
            + "  runnable  blocked | switches/op: vol  invol");
    for (int t = 0; t < names.size(); t++) {
      Totals tt = totals[t];
      double per = tt.ops;
      double blocked = tt.threadWall - tt.run - tt.wait;
      System.out.printf(
          Locale.ROOT,
          "== %-10s %,10.0f %7.2f us  %5.2f  %5.1f  | %7.2f %9.2f %8.2f | %6.3f %6.3f%n",
          names.get(t),
          tt.ops / (tt.wall / 1e9),
          tt.cpu / 1e3 / per,
          (double) tt.cpu / tt.wall,
          100.0 * tt.idle / Math.max(1, tt.ticks),
          tt.run / 1e3 / per,
          tt.wait / 1e3 / per,
          blocked / 1e3 / per,
          tt.vol / per,
          tt.invol / per);
      StringBuilder kinds = new StringBuilder("   cpu us/op by thread kind:");
      for (var e : tt.byKind.entrySet()) {
        kinds.append(String.format(Locale.ROOT, " %s %.2f", e.getKey(), e.getValue() / 1e3 / per));
      }
      System.out.println(kinds);
    }
    for (RocksDbKeyValueBenchmark.Kv kv : kvs) {
      kv.close();
    }
  }
}
