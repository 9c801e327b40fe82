import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;

/**
 * CPU per SQLite get with T threads reading at once (sum of the readers' thread CPU / gets), 100k
 * keys preloaded (-Dkeys=N for another count), through the public API only: whichever Cairn is on
 * the class path. -Dextra="cache-size = 16MiB" adds settings to the backend's configuration.
 */
public class SqliteGetThreadsProbe {
  public static void main(String[] args) throws Exception {
    int threads = Integer.parseInt(args[0]);
    int n = Integer.parseInt(args[1]);
    int rounds = Integer.parseInt(args[2]);
    String label = args[3];
    int keys = Integer.getInteger("keys", 100_000);
    Path dir = Files.createTempDirectory("sqport2-probe");
    String conf = "cairn.backends.b { type = sqlite, data-dir = \"" + dir + "\", durability = normal,"
        + " sweeper-interval = 0s, open-check = header, " + System.getProperty("extra", "") + " }";
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    byte[][] k = new byte[keys][];
    for (int i = 0; i < keys; i++) {
      k[i] = String.format("key-%011d", i).getBytes(StandardCharsets.UTF_8);
    }
    try (PersistenceRegistry r = PersistenceRegistry.open(ConfigFactory.parseString(conf))) {
      KeyValueStore kv = r.backend("b").keyValue("bench");
      List<io.cairn.persistence.KeyValue> page = new ArrayList<>();
      for (int i = 0; i < keys; i++) {
        page.add(new io.cairn.persistence.KeyValue(k[i], new byte[100]));
        if (page.size() == 1000) { kv.putAll(page); page.clear(); }
      }
      for (int round = 0; round < rounds; round++) {
        AtomicLong cpu = new AtomicLong();
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int seed = round * 100 + t;
          Thread th = new Thread(() -> {
            SplittableRandom rnd = new SplittableRandom(seed);
            try { start.await(); } catch (Exception e) { throw new RuntimeException(e); }
            long c0 = mx.getCurrentThreadCpuTime();
            long sink = 0;
            for (int i = 0; i < n; i++) sink += kv.get(k[rnd.nextInt(keys)]).length;
            cpu.addAndGet(mx.getCurrentThreadCpuTime() - c0);
            if (sink == 42) System.out.print("");
          });
          th.start(); ts.add(th);
        }
        start.await();
        long w0 = System.nanoTime();
        for (Thread th : ts) th.join();
        long wall = System.nanoTime() - w0;
        long ops = (long) threads * n;
        System.out.printf("%s t=%d round %d: get cpu %.2f us/op, %.0f ops/s wall%n",
            label, threads, round, cpu.get() / 1e3 / ops, ops / (wall / 1e9));
      }
    }
  }
}
