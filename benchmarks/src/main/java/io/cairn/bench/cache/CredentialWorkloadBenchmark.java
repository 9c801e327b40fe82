package io.cairn.bench.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.bench.BenchFiles;
import io.cairn.cache.TieredCache;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.sqlite.SQLiteConfig;

/**
 * The 90/10 credential workload of issue 15 ("Defaults that win"): 100,000 keys with 300-byte
 * values, keys chosen Zipfian with exponent {@value #ZIPF_EXPONENT} (scrambled: the hot keys are
 * spread over the key space, as YCSB's ScrambledZipfianGenerator does), 90% reads and 10% writes, 4
 * threads, on SQLite at its default durability ({@code normal}: {@code synchronous = NORMAL} in WAL
 * mode). The score (ops/s summed over the 4 threads) is requests per second.
 *
 * <p>Implementations, all in one run so that their ratio is measured under the same load:
 *
 * <ul>
 *   <li>{@code CAIRN_DEFAULT}: a {@link TieredCache} exactly as a user gets it without reading the
 *       tuning guide: {@code cairn.backends.main { type = sqlite, data-dir = ... }} and {@code
 *       cairn.caches.credentials {}} opened through the {@link PersistenceRegistry} with {@link
 *       TieredCache#open} (README, "Queue, cache and routing table"): default profile, default TTL
 *       (10 minutes), default SQLite settings. Reads are {@code get(key, loader)}, writes {@code
 *       put(key, value)}.
 *   <li>{@code CAIRN_LOW_LATENCY}: the same with {@code profile = low-latency}.
 *   <li>{@code CAFFEINE_RAW_SQLITE}: what a user writes by hand: a Caffeine cache sized as
 *       Caffeine's own README example ({@code maximumSize(10_000)}) with {@code
 *       expireAfterWrite(10m)}, in front of raw sqlite-jdbc in WAL mode ({@code synchronous =
 *       NORMAL}) with prepared statements: a table {@code creds(key TEXT PRIMARY KEY, value BLOB)
 *       WITHOUT ROWID}, one reader connection per thread and one writer connection shared under a
 *       lock (SQLite has one writer at a time; a connection per writer thread would only trade the
 *       lock for busy-waits). A read is {@code cache.get(key, k -> select)}; a write is an
 *       autocommit upsert, then {@code cache.put} (write-through).
 *   <li>{@code CAFFEINE_100K_RAW_SQLITE}: the same by hand with {@code maximumSize(100_000)}, the
 *       whole key set: the hand-written cache given the same in-memory capacity as Cairn's default
 *       L1, so that a win is not only a bigger cache than the user's.
 * </ul>
 *
 * Every store is filled with all 100,000 keys before the measurement (the credentials exist; the
 * loader is never the answer). Run: {@code java -jar benchmarks.jar CredentialWorkloadBenchmark -f
 * 1 -wi 2 -i 3 -w 5s -r 5s}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(CredentialWorkloadBenchmark.THREADS)
public class CredentialWorkloadBenchmark {
  static final int THREADS = 4;
  static final int KEYS = 100_000;
  static final int VALUE_BYTES = 300;
  static final double ZIPF_EXPONENT = 0.99;
  static final int PUT_PERCENT = 10;

  /** Length of the precomputed operation trace (each thread starts at its own random offset). */
  private static final int TRACE = 1 << 21;

  private static final int TRACE_MASK = TRACE - 1;
  private static final int PUT = 1 << 31;
  private static final int VALUES = 64;

  /** The implementations compared; baselines are the names not starting with CAIRN. */
  public enum Impl {
    CAIRN_DEFAULT,
    CAIRN_LOW_LATENCY,
    CAFFEINE_RAW_SQLITE,
    CAFFEINE_100K_RAW_SQLITE
  }

  /** The operations every implementation offers: a read-through get and a write-through put. */
  interface Credentials extends AutoCloseable {
    byte[] get(String key);

    void put(String key, byte[] value);

    /** Writes every key (before the measurement). */
    void fill(String[] keys, byte[][] values);

    @Override
    void close();
  }

  @Param Impl impl;

  Credentials store;
  Path dir;
  String[] keys;
  byte[][] values;

  /** Key indices (bit 31 set: a put), Zipfian, scrambled; shared read-only by the threads. */
  int[] trace;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory("cairn-credential-bench");
    Random random = new Random(42);
    keys = new String[KEYS];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = "cred:" + Integer.toHexString(random.nextInt()) + ":" + i;
    }
    values = new byte[VALUES][VALUE_BYTES];
    for (byte[] v : values) {
      random.nextBytes(v);
    }
    trace = trace(random);
    store = open(impl, dir);
    byte[][] initial = new byte[KEYS][];
    for (int i = 0; i < KEYS; i++) {
      initial[i] = values[i % VALUES];
    }
    store.fill(keys, initial);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    store.close();
    BenchFiles.deleteTree(dir);
  }

  /**
   * A thread's position in the trace, and the secondary figures of each measured iteration (JMH
   * sums them over the 4 threads): {@code requests}, and {@code cpuNanos}, a quarter of the process
   * CPU time (every thread of the JVM: the callers, SQLite's and Caffeine's and Cairn's own
   * threads, GC and JIT) between each thread's iteration start and end, so that their sum is the
   * process CPU time of the iteration. {@code cpuNanos / requests} is CPU time per request: on a
   * machine shared with other work it moves far less than the throughput, which measures how much
   * of the 2 cores this process got.
   */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.EVENTS)
  public static class Cursor {
    int next = ThreadLocalRandom.current().nextInt(TRACE);
    public long requests;
    public long cpuNanos;
    private int first;
    private long cpuAtStart;

    @Setup(Level.Iteration)
    public void begin() {
      requests = 0;
      cpuNanos = 0;
      first = next;
      cpuAtStart = processCpuNanos();
    }

    @TearDown(Level.Iteration)
    public void end() {
      requests = next - first;
      cpuNanos = (processCpuNanos() - cpuAtStart) / THREADS;
    }
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  @Benchmark
  public byte[] request(Cursor c) {
    int op = trace[c.next++ & TRACE_MASK];
    if (op < 0) {
      String key = keys[op & ~PUT];
      store.put(key, values[c.next & (VALUES - 1)]);
      return null;
    }
    return store.get(keys[op]);
  }

  /**
   * The operation trace: ranks drawn from Zipf(n = 100,000, s = 0.99) by the rejection-free method
   * of Gray et al. ("Quickly generating billion-record synthetic databases", as in YCSB's
   * ZipfianGenerator), mapped through a fixed random permutation of the keys; one in ten marked a
   * put.
   */
  static int[] trace(Random random) {
    int[] perm = new int[KEYS];
    for (int i = 0; i < KEYS; i++) {
      perm[i] = i;
    }
    for (int i = KEYS - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    double theta = ZIPF_EXPONENT;
    double zetan = zeta(KEYS, theta);
    double zeta2 = zeta(2, theta);
    double alpha = 1.0 / (1.0 - theta);
    double eta = (1 - Math.pow(2.0 / KEYS, 1 - theta)) / (1 - zeta2 / zetan);
    int[] out = new int[TRACE];
    for (int i = 0; i < TRACE; i++) {
      double u = random.nextDouble();
      double uz = u * zetan;
      int rank;
      if (uz < 1.0) {
        rank = 0;
      } else if (uz < 1.0 + Math.pow(0.5, theta)) {
        rank = 1;
      } else {
        rank = (int) (KEYS * Math.pow(eta * u - eta + 1, alpha));
        rank = Math.min(rank, KEYS - 1);
      }
      int key = perm[rank];
      out[i] = random.nextInt(100) < PUT_PERCENT ? key | PUT : key;
    }
    return out;
  }

  private static double zeta(long n, double theta) {
    double sum = 0;
    for (long i = 1; i <= n; i++) {
      sum += 1 / Math.pow(i, theta);
    }
    return sum;
  }

  static Credentials open(Impl impl, Path dir) {
    return switch (impl) {
      case CAIRN_DEFAULT -> new CairnCredentials(dir, "");
      case CAIRN_LOW_LATENCY -> new CairnCredentials(dir, "profile = low-latency");
      case CAFFEINE_RAW_SQLITE -> new HandWritten(dir, 10_000);
      case CAFFEINE_100K_RAW_SQLITE -> new HandWritten(dir, 100_000);
    };
  }

  /**
   * Settings added to both Cairn impls' SQLite backend and cache, for experiments only (system
   * properties {@code cairn.bench.credentials.sqlite} and {@code cairn.bench.credentials.cache},
   * e.g. {@code -jvmArgsAppend -Dcairn.bench.credentials.cache=l1.max-entries=20000}); empty in
   * every reported run. Printed when set, so that no such run passes for a default one.
   */
  static final String EXTRA_SQLITE = extra("cairn.bench.credentials.sqlite");

  static final String EXTRA_CACHE = extra("cairn.bench.credentials.cache");

  private static String extra(String property) {
    String v = System.getProperty(property, "").replace(';', '\n');
    if (!v.isEmpty()) {
      System.err.println("NOT THE DEFAULT CONFIGURATION: " + property + " = " + v);
    }
    return v;
  }

  /** The tiered cache with the configuration a user writes first (plus {@code settings}). */
  static final class CairnCredentials implements Credentials {
    private final PersistenceRegistry registry;
    private final TieredCache<String, byte[]> cache;
    private final Function<String, byte[]> upstream;

    CairnCredentials(Path dir, String settings) {
      registry =
          PersistenceRegistry.open(
              ConfigFactory.parseString(
                  "cairn.backends.main { type = sqlite, data-dir = "
                      + ConfigUtil.quoteString(dir.resolve("main").toString())
                      + " "
                      + EXTRA_SQLITE
                      + " }\n"
                      + "cairn.caches.credentials { "
                      + settings
                      + " "
                      + EXTRA_CACHE
                      + " }"));
      cache = TieredCache.open(registry, "credentials", Codec.utf8(), Codec.bytes());
      upstream = CredentialWorkloadBenchmark::upstream;
    }

    @Override
    public byte[] get(String key) {
      return cache.get(key, upstream);
    }

    @Override
    public void put(String key, byte[] value) {
      cache.put(key, value);
    }

    @Override
    public void fill(String[] keys, byte[][] values) {
      // as a service fills it: one put per credential, from a few threads
      IntStream.range(0, keys.length).parallel().forEach(i -> cache.put(keys[i], values[i]));
    }

    @Override
    public void close() {
      cache.close();
      registry.close();
    }
  }

  /** Caffeine in front of raw sqlite-jdbc, written the way the SQLite and Caffeine docs suggest. */
  static final class HandWritten implements Credentials {
    private final String url;
    private final Connection writer;
    private final PreparedStatement upsert;
    private final Cache<String, byte[]> cache;
    private final List<Connection> readers = new ArrayList<>();
    private final ThreadLocal<PreparedStatement> select;

    HandWritten(Path dir, long maximumSize) {
      url = "jdbc:sqlite:" + dir.resolve("creds.db");
      try {
        writer = connect();
        try (Statement s = writer.createStatement()) {
          s.execute(
              "CREATE TABLE IF NOT EXISTS creds (key TEXT PRIMARY KEY, value BLOB NOT NULL)"
                  + " WITHOUT ROWID");
        }
        upsert = writer.prepareStatement("INSERT OR REPLACE INTO creds (key, value) VALUES (?, ?)");
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
      cache =
          Caffeine.newBuilder()
              .maximumSize(maximumSize)
              .expireAfterWrite(10, TimeUnit.MINUTES)
              .build();
      select =
          ThreadLocal.withInitial(
              () -> {
                try {
                  Connection c = connect();
                  synchronized (readers) {
                    readers.add(c);
                  }
                  return c.prepareStatement("SELECT value FROM creds WHERE key = ?");
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
    }

    private Connection connect() throws SQLException {
      SQLiteConfig cfg = new SQLiteConfig();
      cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
      cfg.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
      cfg.setBusyTimeout(5000);
      return DriverManager.getConnection(url, cfg.toProperties());
    }

    @Override
    public byte[] get(String key) {
      return cache.get(key, this::load);
    }

    private byte[] load(String key) {
      try {
        PreparedStatement s = select.get();
        s.setString(1, key);
        try (ResultSet rs = s.executeQuery()) {
          if (rs.next()) {
            return rs.getBytes(1);
          }
        }
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
      byte[] v = upstream(key);
      store(key, v);
      return v;
    }

    private synchronized void store(String key, byte[] value) {
      try {
        upsert.setString(1, key);
        upsert.setBytes(2, value);
        upsert.executeUpdate();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void put(String key, byte[] value) {
      store(key, value);
      cache.put(key, value);
    }

    @Override
    public synchronized void fill(String[] keys, byte[][] values) {
      try {
        writer.setAutoCommit(false);
        for (int i = 0; i < keys.length; i++) {
          upsert.setString(1, keys[i]);
          upsert.setBytes(2, values[i]);
          upsert.executeUpdate();
        }
        writer.commit();
        writer.setAutoCommit(true);
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void close() {
      try {
        synchronized (readers) {
          for (Connection c : readers) {
            c.close();
          }
        }
        writer.close();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** The upstream a credential would come from (never reached here: every key is stored). */
  static byte[] upstream(String key) {
    return ("upstream:" + key).getBytes(StandardCharsets.UTF_8);
  }
}
