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
import java.util.Random;

/**
 * CPU per SQLite get and put through the public API only, one thread, durability normal, 100k
 * keys preloaded (100-byte values): runs against whichever Cairn is on the class path (the old
 * backend's benchmarks jar or the port's). Prints thread CPU and wall per op for `rounds` rounds.
 */
public class SqliteCpuProbe {
  public static void main(String[] args) throws Exception {
    int n = Integer.parseInt(args[0]);
    int rounds = Integer.parseInt(args[1]);
    String label = args[2];
    int keys = 100_000;
    Path dir = Files.createTempDirectory("sqport2-probe");
    String conf = "cairn.backends.b { type = sqlite, data-dir = \"" + dir + "\", durability = normal,"
        + " sweeper-interval = 0s, open-check = header }";
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    byte[][] k = new byte[keys][];
    for (int i = 0; i < keys; i++) {
      k[i] = String.format("key-%011d", i).getBytes(StandardCharsets.UTF_8);
    }
    byte[] v = new byte[100];
    try (PersistenceRegistry r = PersistenceRegistry.open(ConfigFactory.parseString(conf))) {
      KeyValueStore kv = r.backend("b").keyValue("bench");
      List<io.cairn.persistence.KeyValue> page = new ArrayList<>();
      for (int i = 0; i < keys; i++) {
        page.add(new io.cairn.persistence.KeyValue(k[i], v));
        if (page.size() == 1000) { kv.putAll(page); page.clear(); }
      }
      Random rnd = new Random(42);
      for (int round = 0; round < rounds; round++) {
        long c0 = mx.getCurrentThreadCpuTime(), w0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          v[0] = (byte) i;
          kv.put(k[rnd.nextInt(keys)], v);
        }
        long c1 = mx.getCurrentThreadCpuTime(), w1 = System.nanoTime();
        long sink = 0;
        for (int i = 0; i < n; i++) {
          sink += kv.get(k[rnd.nextInt(keys)]).length;
        }
        long c2 = mx.getCurrentThreadCpuTime(), w2 = System.nanoTime();
        System.out.printf("%s round %d: put cpu %.1f us wall %.1f us | get cpu %.2f us wall %.2f us (%d)%n",
            label, round, (c1 - c0) / 1e3 / n, (w1 - w0) / 1e3 / n, (c2 - c1) / 1e3 / n,
            (w2 - w1) / 1e3 / n, sink);
      }
    }
  }
}
