package io.cairn.bench.memory;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageBackendProvider;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * CPU time per key-value put of the shared base ({@code EngineBackend}) on an engine, measured in
 * one thread with the thread's CPU clock, so other processes on the machine change it little
 * (benchmarks/RESULTS-blind-put.md). Not JMH: a before/after comparison runs this class twice, once
 * with the persistence-api jar of each commit first on the class path (the script in
 * RESULTS-blind-put.md), alternating.
 *
 * <pre>
 * java -cp [persistence-api.jar:]benchmarks.jar[:persistence-tck/target/test-classes] \
 *     io.cairn.bench.memory.BasePutCpuCost memory|thirdparty LABEL [WORKLOAD...]
 * </pre>
 *
 * Workloads over 64 Ki keys written once before (every put replaces an entry), 100-byte values:
 * {@code put}, {@code put-ttl} (a one-hour TTL), {@code get} (the control: the put change does not
 * touch it); the default is these three. {@code get@T}: T threads get at once (each from its own
 * place in the keys), CPU of all of them per get (the close guard's cost under concurrency). Each:
 * 5 warm-up rounds then 11 rounds of 200,000 operations per thread; prints the median CPU
 * nanoseconds per operation and the spread of the rounds.
 */
public final class BasePutCpuCost {
  private static final int KEYS = 65_536;
  private static final int OPS = 200_000;
  private static final int WARMUP = 5;
  private static final int ROUNDS = 11;

  private BasePutCpuCost() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2 || !(args[0].equals("memory") || args[0].equals("thirdparty"))) {
      System.err.println(
          "usage: BasePutCpuCost memory|thirdparty LABEL [put|put-ttl|get|get@T...]");
      System.exit(2);
    }
    String[] works =
        args.length > 2
            ? Arrays.copyOfRange(args, 2, args.length)
            : new String[] {"put", "put-ttl", "get"};
    Path dir = Files.createTempDirectory("base-put-cpu");
    try (StorageBackend b = open(args[0], dir)) {
      KeyValueStore kv = b.keyValue("ns");
      byte[][] keys = new byte[KEYS][];
      for (int i = 0; i < KEYS; i++) {
        keys[i] = ("key-" + i).getBytes(StandardCharsets.UTF_8);
        kv.put(keys[i], new byte[100]);
      }
      byte[] value = new byte[100];
      Duration hour = Duration.ofHours(1);
      for (String work : works) {
        if (work.startsWith("get@")) {
          concurrentGets(kv, keys, Integer.parseInt(work.substring(4)), args);
          continue;
        }
        long[] perOp = new long[ROUNDS];
        for (int round = -WARMUP; round < ROUNDS; round++) {
          long sink = 0;
          long t0 = cpuNanos();
          for (int i = 0; i < OPS; i++) {
            byte[] k = keys[(i * 40_503) & (KEYS - 1)]; // a fixed scattered order
            sink +=
                switch (work) {
                  case "put" -> kv.put(k, value);
                  case "put-ttl" -> kv.put(k, value, hour);
                  default -> kv.get(k).length;
                };
          }
          long spent = cpuNanos() - t0;
          if (sink == 42) {
            System.out.print(""); // keeps the loop's results alive
          }
          if (round >= 0) {
            perOp[round] = spent / OPS;
          }
        }
        Arrays.sort(perOp);
        System.out.printf(
            "%s %s %s median %d ns CPU/op (min %d, max %d, %d rounds of %d)%n",
            args[1], args[0], work, perOp[ROUNDS / 2], perOp[0], perOp[ROUNDS - 1], ROUNDS, OPS);
      }
    }
  }

  /** {@code threads} threads get at once, round by round; CPU of all per get. */
  private static void concurrentGets(KeyValueStore kv, byte[][] keys, int threads, String[] args)
      throws Exception {
    CyclicBarrier start = new CyclicBarrier(threads);
    long[][] spent = new long[threads][WARMUP + ROUNDS];
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int me = t;
        done.add(
            pool.submit(
                () -> {
                  int offset = me * (KEYS / threads);
                  long sink = 0;
                  for (int round = 0; round < WARMUP + ROUNDS; round++) {
                    start.await();
                    long t0 = cpuNanos();
                    for (int i = 0; i < OPS; i++) {
                      sink += kv.get(keys[(offset + i * 40_503) & (KEYS - 1)]).length;
                    }
                    spent[me][round] = cpuNanos() - t0;
                  }
                  return sink;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    long[] perOp = new long[ROUNDS];
    for (int round = 0; round < ROUNDS; round++) {
      long sum = 0;
      for (int t = 0; t < threads; t++) {
        sum += spent[t][WARMUP + round];
      }
      perOp[round] = sum / ((long) OPS * threads);
    }
    Arrays.sort(perOp);
    System.out.printf(
        "%s %s get@%d median %d ns CPU/op (min %d, max %d, %d rounds of %d per thread)%n",
        args[1], args[0], threads, perOp[ROUNDS / 2], perOp[0], perOp[ROUNDS - 1], ROUNDS, OPS);
  }

  private static long cpuNanos() {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    return mx.getCurrentThreadCpuTime();
  }

  /** The backend of provider {@code type} (found by the service loader), durability none. */
  private static StorageBackend open(String type, Path dir) {
    for (StorageBackendProvider p : ServiceLoader.load(StorageBackendProvider.class)) {
      if (p.type().equals(type)) {
        return p.open(
            BackendContext.builder("bench", type)
                .durability(Durability.NONE)
                .dataDir(dir)
                .config(
                    ConfigFactory.parseString("type = " + type + ", durability = none")
                        .withFallback(
                            ConfigFactory.load()
                                .getConfig("cairn.backend-defaults")
                                .getConfig(type)))
                .build());
      }
    }
    throw new IllegalArgumentException(
        "no backend provider of type "
            + type
            + " on the class path (thirdparty: add"
            + " persistence-tck/target/test-classes)");
  }
}
