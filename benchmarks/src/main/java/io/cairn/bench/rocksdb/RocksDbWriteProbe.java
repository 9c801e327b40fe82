package io.cairn.bench.rocksdb;

import io.cairn.backend.rocksdb.RocksDbBackendProvider;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.LRUCache;
import org.rocksdb.RocksDB;
import org.rocksdb.WALRecoveryMode;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;

/**
 * A diagnostic, not a JMH benchmark: why do Cairn's concurrent puts lose to raw rocksdbjni? Runs
 * {@code threads} writers over 100k preloaded 16-byte keys (100-byte values) against each target in
 * turn, round after round (round 0 is warm-up), and prints per target the throughput, the process
 * CPU time per put (all threads: writers, RocksDB's background jobs, JIT and GC) and RocksDB's own
 * write counters ({@code rocksdb.dbstats}: writes, keys written, commit groups, WAL writes and
 * syncs, stall time), read from Cairn's RocksDB handle and the raw one alike.
 *
 * <p>Targets: {@code cairn} (the backend through its provider, no registry timers) and raw
 * variants, {@code raw} plus flags joined by {@code +}, each adding one of Cairn's differences to
 * {@link RawRocks}' set-up so the one that reproduces a gap can be found: {@code atomic}
 * (atomic_flush), {@code cfs} (six column families, writes to the second), {@code waltrack}
 * (track_and_verify_wals[_in_manifest]), {@code walrec} (tolerate-corrupted-tail-records), {@code
 * maxwal} (max_total_wal_size 256 MiB), {@code big} (Cairn's framing: a 4-byte store prefix on the
 * key and a 16-byte header on the value, copied in Java), {@code batch} (a one-entry WriteBatch
 * instead of a put), {@code noyield} (enable_write_thread_adaptive_yield off).
 *
 * <pre>
 * flock /tmp/bench.lock java -cp benchmarks/target/benchmarks.jar \
 *   io.cairn.bench.rocksdb.RocksDbWriteProbe 8 2 none 6 cairn raw raw+atomic+cfs raw+big
 * </pre>
 *
 * Arguments: threads, seconds per round, durability ({@code none}, {@code normal}, {@code full}),
 * rounds, targets. Keys are preloaded except at {@code full}. Databases go under {@code
 * -Dcairn.bench.dir} (see {@link RawRocks#benchRoot}).
 */
public final class RocksDbWriteProbe {
  private RocksDbWriteProbe() {}

  interface Put {
    void put(byte[] k, byte[] v) throws Exception;
  }

  static final class Target {
    String name;
    Put put;
    RocksDB db;
    AutoCloseable owner;
    Path dir;
    long ops;
    long nanos;
    long cpu;
  }

  static Target cairn(String durability) throws Exception {
    Path dir = Files.createTempDirectory(RawRocks.benchRoot(), "probe-cairn");
    StorageBackend backend =
        new RocksDbBackendProvider()
            .open(
                BackendContext.builder("probe", "rocksdb")
                    .dataDir(dir.resolve("db"))
                    .durability(Durability.valueOf(durability.toUpperCase(Locale.ROOT)))
                    .build());
    KeyValueStore s = backend.keyValue("probe");
    Target t = new Target();
    t.name = "cairn";
    t.owner = backend;
    t.dir = dir;
    t.put = s::put;
    // the engine's handle, to read the same counters as the raw side's
    t.db = findRocksDb(backend, 0);
    if (t.db == null) {
      throw new IllegalStateException("no RocksDB handle reachable from " + backend.getClass());
    }
    return t;
  }

  /** The first RocksDB handle in the object graph below {@code o} (Cairn's classes only). */
  private static RocksDB findRocksDb(Object o, int depth) throws IllegalAccessException {
    if (o == null || depth > 4) {
      return null;
    }
    for (Class<?> c = o.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (java.lang.reflect.Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
          continue;
        }
        if (RocksDB.class.isAssignableFrom(f.getType())) {
          f.setAccessible(true);
          return (RocksDB) f.get(o);
        }
        if (f.getType().getName().startsWith("io.cairn.")) {
          f.setAccessible(true);
          RocksDB found = findRocksDb(f.get(o), depth + 1);
          if (found != null) {
            return found;
          }
        }
      }
    }
    return null;
  }

  static Target raw(String durability, Set<String> flags, String name) throws Exception {
    Path dir = Files.createTempDirectory(RawRocks.benchRoot(), "probe-raw");
    LRUCache cache = new LRUCache(256L << 20);
    WriteBufferManager wbm = new WriteBufferManager(64L << 20, cache);
    BlockBasedTableConfig table = new BlockBasedTableConfig();
    table.setBlockCache(cache);
    table.setCacheIndexAndFilterBlocks(true);
    table.setPinL0FilterAndIndexBlocksInCache(true);
    table.setFilterPolicy(new BloomFilter(10, false));
    Properties p = new Properties();
    if (flags.contains("waltrack")) {
      p.put("track_and_verify_wals_in_manifest", "true");
      p.put("track_and_verify_wals", "true");
    }
    DBOptions db = p.isEmpty() ? new DBOptions() : DBOptions.getDBOptionsFromProps(p);
    db.setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true)
        .setMaxBackgroundJobs(2)
        .setMaxOpenFiles(1000)
        .setWriteBufferManager(wbm);
    if (flags.contains("noyield")) {
      db.setEnableWriteThreadAdaptiveYield(false);
    }
    if (flags.contains("atomic")) {
      db.setAtomicFlush(true);
    }
    if (flags.contains("maxwal")) {
      db.setMaxTotalWalSize(256L << 20);
    }
    if (flags.contains("walrec")) {
      db.setWalRecoveryMode(WALRecoveryMode.TolerateCorruptedTailRecords);
    }
    ColumnFamilyOptions cf =
        new ColumnFamilyOptions()
            .setTableFormatConfig(table)
            .setCompressionType(CompressionType.LZ4_COMPRESSION)
            .setWriteBufferSize(16L << 20)
            .setMaxWriteBufferNumber(3);
    List<ColumnFamilyDescriptor> ds = new ArrayList<>();
    ds.add(new ColumnFamilyDescriptor("default".getBytes(), cf));
    int ncf = flags.contains("cfs") ? 6 : 1;
    for (int i = 1; i < ncf; i++) {
      ds.add(new ColumnFamilyDescriptor(("cf" + i).getBytes(), cf));
    }
    List<ColumnFamilyHandle> hs = new ArrayList<>();
    RocksDB r = RocksDB.open(db, dir.toString(), ds, hs);
    ColumnFamilyHandle h = hs.get(ncf > 1 ? 1 : 0);
    WriteOptions wo = new WriteOptions();
    wo.setDisableWAL(durability.equals("none"));
    wo.setSync(durability.equals("full"));
    boolean big = flags.contains("big");
    boolean batch = flags.contains("batch");
    Target t = new Target();
    t.name = name;
    t.db = r;
    t.owner = r;
    t.dir = dir;
    t.put =
        (k, v) -> {
          byte[] kk = k;
          byte[] vv = v;
          if (big) {
            kk = new byte[k.length + 4];
            System.arraycopy(k, 0, kk, 4, k.length);
            vv = new byte[v.length + 16];
            System.arraycopy(v, 0, vv, 16, v.length);
          }
          if (batch) {
            try (WriteBatch b = new WriteBatch()) {
              b.put(h, kk, vv);
              r.write(wo, b);
            }
          } else {
            r.put(h, wo, kk, vv);
          }
        };
    return t;
  }

  public static void main(String[] a) throws Exception {
    RocksDB.loadLibrary();
    int threads = Integer.parseInt(a[0]);
    double secs = Double.parseDouble(a[1]);
    String durability = a[2];
    int rounds = Integer.parseInt(a[3]);
    List<Target> targets = new ArrayList<>();
    for (int i = 4; i < a.length; i++) {
      targets.add(
          a[i].equals("cairn")
              ? cairn(durability)
              : raw(durability, new HashSet<>(Arrays.asList(a[i].split("\\+"))), a[i]));
    }
    byte[] value = new byte[100];
    new Random(42).nextBytes(value);
    int keys = 100_000;
    byte[][] ks = new byte[keys][];
    for (int i = 0; i < keys; i++) {
      ks[i] = ByteBuffer.allocate(16).putLong(0x6b65793a6b65793aL).putLong(i).array();
    }
    // at full the keys are written as the rounds go (as RocksDbSyncedWriteBenchmark does)
    for (Target t : durability.equals("full") ? List.<Target>of() : targets) {
      for (byte[] k : ks) {
        t.put.put(k, value);
      }
    }
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    for (int r = 0; r < rounds; r++) {
      for (Target t : targets) {
        AtomicBoolean stop = new AtomicBoolean();
        LongAdder n = new LongAdder();
        Thread[] th = new Thread[threads];
        for (int i = 0; i < threads; i++) {
          long seed = 0x9E3779B97F4A7C15L * (i + 2);
          th[i] =
              new Thread(
                  () -> {
                    long x = seed;
                    long c = 0;
                    try {
                      while (!stop.get()) {
                        for (int j = 0; j < 64; j++) {
                          x ^= x << 13;
                          x ^= x >>> 7;
                          x ^= x << 17;
                          t.put.put(ks[(int) ((x >>> 1) % keys)], value);
                          c++;
                        }
                      }
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                    n.add(c);
                  });
        }
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
        if (r > 0) {
          t.ops += n.sum();
          t.nanos += el;
          t.cpu += cpu;
          System.out.printf(
              "round %d %-28s %,10.0f puts/s %7.2f us cpu/put%n",
              r, t.name, n.sum() / (el / 1e9), cpu / 1e3 / n.sum());
        }
      }
    }
    for (Target t : targets) {
      System.out.printf(
          "== %-28s %,10.0f puts/s %7.2f us cpu/put%n",
          t.name, t.ops / (t.nanos / 1e9), t.cpu / 1e3 / t.ops);
      for (String line : t.db.getProperty("rocksdb.dbstats").split("\n")) {
        if (line.startsWith("Cumulative")) {
          System.out.println("   " + line);
        }
      }
    }
    for (Target t : targets) {
      t.owner.close();
      RawRocks.deleteTree(t.dir);
    }
  }
}
