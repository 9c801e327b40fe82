import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteOpenMode;

/**
 * One-thread put as SqliteThreadsBenchmark.put does it (registry defaults, durability normal,
 * 100,000 keys of 16 bytes, 100-byte values, preloaded in putAll batches of 4,096), Cairn and raw
 * sqlite-jdbc in the same process, alternated: per round of `seconds`, puts per second (wall), the
 * calling thread's CPU per put and the whole process's CPU per put (background threads included).
 * Usage: SqlitePut1Probe SECONDS|nCOUNT ROUNDS LABEL [extra HOCON for the backend] [sides: both|cairn]
 */
public class SqlitePut1Probe {
  static byte[] key(int i) {
    return String.format("key:%012d", i).getBytes(StandardCharsets.US_ASCII);
  }

  interface Put {
    void put(byte[] k, byte[] v) throws Exception;
  }

  public static void main(String[] args) throws Exception {
    // "3" = rounds of 3 seconds; "n20000" = rounds of exactly 20,000 puts (for strace counts)
    boolean counted = args[0].startsWith("n");
    long fixed = counted ? Long.parseLong(args[0].substring(1)) : 0;
    double seconds = counted ? 0 : Double.parseDouble(args[0]);
    int rounds = Integer.parseInt(args[1]);
    String label = args[2];
    String extra = args.length > 3 ? args[3] : "";
    boolean cairnOnly = args.length > 4 && args[4].equals("cairn");
    int keys = 100_000;
    byte[][] ks = new byte[keys][];
    for (int i = 0; i < keys; i++) ks[i] = key(i);
    byte[] value = new byte[100];
    new SplittableRandom(42).nextBytes(value);
    Path dir = Files.createTempDirectory("sqput-probe");
    PersistenceRegistry reg = PersistenceRegistry.open(ConfigFactory.parseString(
        "cairn.backends.bench { type = sqlite, durability = normal, data-dir = \""
            + dir.resolve("data") + "\" " + extra + " }"));
    KeyValueStore store = reg.backend("bench").keyValue("bench");
    List<KeyValue> batch = new ArrayList<>();
    for (byte[] k : ks) {
      batch.add(new KeyValue(k, value));
      if (batch.size() == 4096) { store.putAll(batch); batch.clear(); }
    }
    store.putAll(batch);
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
    cfg.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
    cfg.setGetGeneratedKeys(false);
    cfg.setOpenMode(SQLiteOpenMode.NOMUTEX);
    cfg.setBusyTimeout(5000);
    cfg.setCacheSize(-18 * 1024);
    Connection raw = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("raw.db"), cfg.toProperties());
    try (Statement s = raw.createStatement()) {
      s.execute("CREATE TABLE kv (key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID");
    }
    PreparedStatement ps = raw.prepareStatement("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)");
    raw.setAutoCommit(false);
    for (byte[] k : ks) { ps.setBytes(1, k); ps.setBytes(2, value); ps.executeUpdate(); }
    raw.commit();
    raw.setAutoCommit(true);
    Put cairn = store::put;
    Put rawPut = (k, v) -> { ps.setBytes(1, k); ps.setBytes(2, v); ps.executeUpdate(); };
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    SplittableRandom rnd = new SplittableRandom(7);
    byte[] v = value.clone();
    int[] counter = {0};
    long deadlineNs = (long) (seconds * 1e9);
    for (int round = 0; round < rounds; round++) {
      for (int side = 0; side < (cairnOnly ? 1 : 2); side++) {
        Put p = side == 0 ? cairn : rawPut;
        long c0 = mx.getCurrentThreadCpuTime(), pc0 = os.getProcessCpuTime(), w0 = System.nanoTime();
        long n = 0;
        while (true) {
          for (int j = 0; j < 64; j++) {
            int c = ++counter[0];
            v[0] = (byte) c; v[1] = (byte) (c >>> 8); v[2] = (byte) (c >>> 16); v[3] = (byte) (c >>> 24);
            p.put(ks[rnd.nextInt(keys)], v);
          }
          n += 64;
          if (counted ? n >= fixed : System.nanoTime() - w0 >= deadlineNs) break;
        }
        long w1 = System.nanoTime(), c1 = mx.getCurrentThreadCpuTime(), pc1 = os.getProcessCpuTime();
        System.out.printf("%s round %d %s: %.0f puts/s wall %.1f us, caller cpu %.1f us, process cpu %.1f us, load %s%n",
            label, round, side == 0 ? "cairn" : "raw  ", n * 1e9 / (w1 - w0), (w1 - w0) / 1e3 / n,
            (c1 - c0) / 1e3 / n, (pc1 - pc0) / 1e3 / n,
            new String(Files.readAllBytes(Path.of("/proc/loadavg"))).split(" ")[0]);
      }
    }
    ps.close();
    raw.close();
    reg.close();
  }
}
