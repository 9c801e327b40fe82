package io.cairn.backend.sqlite;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.BackendContext;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A measurement, not a test (issue 12 port): what a key-value put and get cost in CPU of the
 * calling thread on the old SQLite backend (a blind INSERT OR REPLACE with a version from the
 * backend-wide sequence) and on the engine over the base (which reads the stored entry first, on a
 * reader connection, to count the key's version), and what that read alone costs (the engine's own
 * point get of the same key). One thread, durability {@code normal}, 16-byte keys, 100-byte values,
 * {@code keys} keys preloaded; rounds alternate the two so a loaded machine hurts both alike;
 * thread CPU time (ThreadMXBean) and wall time per operation. Run from backend-sqlite after
 * test-compile:
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) io.cairn.backend.sqlite.EnginePutCostProbe [ops] [keys]
 * </pre>
 *
 * (cp.txt from {@code mvn dependency:build-classpath -Dmdep.outputFile=cp.txt}).
 */
public final class EnginePutCostProbe {
  private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

  private EnginePutCostProbe() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int keys = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
    Path root = Files.createTempDirectory("cairn-engine-probe");
    com.typesafe.config.Config config =
        ConfigFactory.parseString("sweeper-interval = 0s, open-check = header")
            .withFallback(ConfigFactory.load().getConfig("cairn.backend-defaults.sqlite"));
    BackendContext oldCtx =
        BackendContext.builder("old", "sqlite")
            .config(config)
            .dataDir(root.resolve("old"))
            .durability(Durability.NORMAL)
            .build();
    BackendContext newCtx =
        BackendContext.builder("base", "sqlite-base")
            .config(config)
            .dataDir(root.resolve("base"))
            .durability(Durability.NORMAL)
            .build();
    SqliteSettings settings = SqliteSettings.of(config, "probe");
    SqliteEngine engine = SqliteEngine.open(newCtx, settings);
    try (StorageBackend old = SqliteBackend.open(oldCtx);
        StorageBackend base =
            io.cairn.persistence.spi.EngineBackend.open(
                newCtx, "sqlite-base", engine, SqliteBaseProvider.options(newCtx, settings))) {
      KeyValueStore o = old.keyValue("bench");
      KeyValueStore b = base.keyValue("bench");
      byte[][] k = new byte[keys][];
      for (int i = 0; i < keys; i++) {
        k[i] = String.format("key-%011d", i).getBytes(StandardCharsets.UTF_8);
      }
      byte[] value = new byte[100];
      java.util.List<io.cairn.persistence.KeyValue> page = new java.util.ArrayList<>();
      for (int i = 0; i < keys; i++) {
        page.add(new io.cairn.persistence.KeyValue(k[i], value));
        if (page.size() == 1000 || i == keys - 1) {
          o.putAll(page);
          b.putAll(page);
          page.clear();
        }
      }
      StoreId id = new StoreId(StoreKind.KEY_VALUE, "bench");
      java.util.SplittableRandom random = new java.util.SplittableRandom(7);
      for (int round = 0; round < 5; round++) {
        long[] oldPut = time(n, i -> o.put(k[random.nextInt(keys)], bump(value, i)));
        long[] basePut = time(n, i -> b.put(k[random.nextInt(keys)], bump(value, i)));
        long[] oldGet = time(n, i -> o.get(k[random.nextInt(keys)]));
        long[] baseGet = time(n, i -> b.get(k[random.nextInt(keys)]));
        // the base's read before a write: the engine's own point get of a stored key
        long[] engineGet = time(n, i -> engine.get(id, k[random.nextInt(keys)]));
        // the same get right after a commit: a reader connection's page cache is dropped by
        // SQLite whenever another connection changed the file, so the read a base write makes
        // after the previous write finds a cold cache
        long[] putThenGet =
            time(
                n,
                i -> {
                  b.put(k[random.nextInt(keys)], bump(value, i));
                  engine.get(id, k[random.nextInt(keys)]);
                });
        System.out.printf(
            "round %d (n=%d, keys=%d, load %s): CPU us/op [wall]: put old %.1f [%.1f] base %.1f"
                + " [%.1f] | get old %.1f [%.1f] base %.1f [%.1f] | engine get (the read before a base write) %.1f [%.1f] | base put + engine get"
                + " %.1f [%.1f]%n",
            round,
            n,
            keys,
            load(),
            oldPut[0] / 1e3 / n,
            oldPut[1] / 1e3 / n,
            basePut[0] / 1e3 / n,
            basePut[1] / 1e3 / n,
            oldGet[0] / 1e3 / n,
            oldGet[1] / 1e3 / n,
            baseGet[0] / 1e3 / n,
            baseGet[1] / 1e3 / n,
            engineGet[0] / 1e3 / n,
            engineGet[1] / 1e3 / n,
            putThenGet[0] / 1e3 / n,
            putThenGet[1] / 1e3 / n);
      }
    }
  }

  private static byte[] bump(byte[] value, int i) {
    value[0] = (byte) i;
    value[1] = (byte) (i >>> 8);
    return value;
  }

  private static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (java.io.IOException e) {
      return "?";
    }
  }

  private interface Op {
    void run(int i);
  }

  /** {CPU ns, wall ns} of {@code n} runs of {@code op} on this thread. */
  private static long[] time(int n, Op op) {
    long c0 = CPU.getCurrentThreadCpuTime();
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      op.run(i);
    }
    return new long[] {CPU.getCurrentThreadCpuTime() - c0, System.nanoTime() - t0};
  }
}
