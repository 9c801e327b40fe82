package io.cairn.bench.sqlite;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.bench.BenchFiles;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
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
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
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
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteOpenMode;

/**
 * Key-value get and put at 1, 4 and 8 threads: Cairn's SQLite backend (through the registry, as a
 * service opens it, durability {@code normal}) beside raw sqlite-jdbc doing the same logical work,
 * in the same run. 16-byte keys, 100-byte values, {@code keys} keys preloaded; every get reads an
 * existing key, every put overwrites one with a value that differs from the stored one (a counter
 * in its first bytes: SQLite does not write a byte-identical row at all).
 *
 * <p>Threads come from JMH's {@code -t} option (the class sets none):
 *
 * <pre>
 * for t in 1 4 8; do flock /tmp/bench.lock java -jar benchmarks/target/benchmarks.jar \
 *     SqliteThreadsBenchmark -t $t -f 1 -wi 2 -w 2s -i 3 -r 3s -rf json -rff sqlite-threads-$t.json
 * done
 * </pre>
 *
 * <p>{@code RAW_SQLITE} is what a careful user writes by hand with sqlite-jdbc: WAL, {@code
 * synchronous = NORMAL}, the same page size (SQLite's default, 4096) and page cache (18 MiB per
 * connection) Cairn uses, the connection opened NOMUTEX with generated-key fetching off, prepared
 * statements reused; one read-only connection per thread for reads (WAL readers do not block each
 * other); one writer connection shared by all threads and guarded by a {@link ReentrantLock} (one
 * autocommit {@code INSERT OR REPLACE} per put under the lock), the usual way to avoid {@code
 * SQLITE_BUSY} between writers of one process. The raw table {@code kv(key BLOB PRIMARY KEY, value
 * BLOB) WITHOUT ROWID} carries no version, expiry or checksum, so the comparison is strict.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SqliteThreadsBenchmark {
  /**
   * Implementations; the baseline is the first name not starting with CAIRN. {@code
   * RAW_SQLITE_CAIRN_LAYOUT} is the control ({@link SqliteCairnLayout}: raw sqlite-jdbc on Cairn's
   * schema, pragmas and statements, read as Cairn reads, none of Cairn's Java code): not in the
   * default set, so the front page's suite runs as before; name it with {@code -p
   * impl=CAIRN_SQLITE,RAW_SQLITE,RAW_SQLITE_CAIRN_LAYOUT}. Cairn / control is what Cairn's code
   * costs; control / raw what Cairn's layout costs.
   */
  public enum Impl {
    CAIRN_SQLITE,
    RAW_SQLITE,
    RAW_SQLITE_CAIRN_LAYOUT
  }

  @Param({"CAIRN_SQLITE", "RAW_SQLITE"})
  Impl impl;

  @Param({"100000"})
  int keys;

  /**
   * Whether both sides start the run with their WAL checkpointed in full. Raw's preload is one
   * transaction larger than {@code wal_autocheckpoint}, so its WAL is always checkpointed at the
   * end of the load; Cairn's load commits in batches and leaves the frames of its last batches in
   * the WAL (81 at 100,000 keys), which its readers then look up through the WAL index. With {@code
   * true} Cairn's registry is closed (a clean close checkpoints and truncates the WAL) and reopened
   * after the load, and raw's writer runs {@code wal_checkpoint(TRUNCATE)}.
   */
  @Param({"false"})
  boolean checkpointed;

  Path dir;
  byte[][] keySpace;
  KeyValueStore store;
  PersistenceRegistry registry;
  Raw raw;
  SqliteCairnLayout control;

  /** 16 bytes: {@code key:} and 12 digits. */
  static byte[] key(int i) {
    return String.format("key:%012d", i).getBytes(StandardCharsets.US_ASCII);
  }

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    dir = Files.createTempDirectory("cairn-bench-sqlite-threads");
    keySpace = keySpace(keys);
    byte[] value = preloadValue();
    if (impl == Impl.CAIRN_SQLITE) {
      registry = open(dir);
      store = registry.backend("bench").keyValue("bench");
      preload(store, keySpace, value);
      if (checkpointed) {
        registry.close();
        registry = open(dir);
        store = registry.backend("bench").keyValue("bench");
      }
    } else if (impl == Impl.RAW_SQLITE_CAIRN_LAYOUT) {
      control = new SqliteCairnLayout(dir.resolve("control.db"));
      control.preload(keySpace, value);
      if (checkpointed) {
        control.checkpoint();
      }
    } else {
      raw = new Raw(dir.resolve("raw.db"));
      raw.preload(keySpace, value);
      if (checkpointed) {
        raw.checkpoint();
      }
    }
  }

  /** The benchmark's {@code n} keys, {@link #key} 0 to n - 1. */
  static byte[][] keySpace(int n) {
    byte[][] out = new byte[n][];
    for (int i = 0; i < n; i++) {
      out[i] = key(i);
    }
    return out;
  }

  /** The benchmark's preloaded 100-byte value (seed 42). */
  static byte[] preloadValue() {
    byte[] value = new byte[100];
    new SplittableRandom(42).nextBytes(value);
    return value;
  }

  /** Loads {@code keys} with {@code value} in {@code putAll} pages of 4,096, as this setup does. */
  static void preload(KeyValueStore store, byte[][] keys, byte[] value) {
    List<KeyValue> batch = new ArrayList<>();
    for (byte[] k : keys) {
      batch.add(new KeyValue(k, value));
      if (batch.size() == 4096) {
        store.putAll(batch);
        batch.clear();
      }
    }
    store.putAll(batch);
  }

  /** Cairn's SQLite backend {@code bench} in {@code dir}/data at durability normal. */
  static PersistenceRegistry open(Path dir) {
    return PersistenceRegistry.open(
        ConfigFactory.parseString(
            "cairn.backends.bench { type = sqlite, durability = normal, data-dir = "
                + ConfigUtil.quoteString(dir.resolve("data").toString())
                + " }"));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (registry != null) {
      registry.close();
    }
    if (raw != null) {
      raw.close();
    }
    if (control != null) {
      control.close();
    }
    BenchFiles.deleteTree(dir);
  }

  /** Per thread: its random key sequence, its value buffer and (raw) its reader connection. */
  @State(Scope.Thread)
  public static class PerThread {
    SplittableRandom random;
    final byte[] value = new byte[100];
    int counter;
    RawReader reader;
    SqliteCairnLayout.Reader controlReader;

    @Setup(Level.Trial)
    public void setUp(SqliteThreadsBenchmark b) {
      random = new SplittableRandom(System.identityHashCode(this));
      random.nextBytes(value);
      if (b.raw != null) {
        reader = b.raw.reader();
      }
      if (b.control != null) {
        controlReader = b.control.reader();
      }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      if (reader != null) {
        reader.close();
      }
      if (controlReader != null) {
        controlReader.close();
      }
    }
  }

  @Benchmark
  public byte[] get(PerThread t) {
    byte[] k = keySpace[t.random.nextInt(keys)];
    if (store != null) {
      return store.get(k);
    }
    return t.reader != null ? t.reader.get(k) : t.controlReader.get(k);
  }

  @Benchmark
  public void put(PerThread t) {
    int n = ++t.counter;
    byte[] v = t.value;
    v[0] = (byte) n;
    v[1] = (byte) (n >>> 8);
    v[2] = (byte) (n >>> 16);
    v[3] = (byte) (n >>> 24);
    byte[] k = keySpace[t.random.nextInt(keys)];
    if (store != null) {
      store.put(k, v);
    } else if (raw != null) {
      raw.put(k, v);
    } else {
      control.put(k, v);
    }
  }

  static SQLiteConfig config(boolean readOnly) {
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
    cfg.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
    cfg.setGetGeneratedKeys(false);
    cfg.setOpenMode(SQLiteOpenMode.NOMUTEX);
    cfg.setBusyTimeout(5000);
    cfg.setCacheSize(-18 * 1024); // KiB: Cairn's cache-size default, 18 MiB per connection
    cfg.setReadOnly(readOnly);
    return cfg;
  }

  /** Raw sqlite-jdbc: one writer connection under a lock; readers come from {@link #reader}. */
  static final class Raw implements AutoCloseable {
    private final Path file;
    private final Connection writer;
    private final PreparedStatement put;
    private final ReentrantLock lock = new ReentrantLock();

    Raw(Path file) {
      this.file = file;
      try {
        writer = DriverManager.getConnection("jdbc:sqlite:" + file, config(false).toProperties());
        try (Statement s = writer.createStatement()) {
          s.execute(
              "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL)"
                  + " WITHOUT ROWID");
        }
        put = writer.prepareStatement("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)");
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    RawReader reader() {
      return new RawReader(file);
    }

    void put(byte[] key, byte[] value) {
      lock.lock();
      try {
        put.setBytes(1, key);
        put.setBytes(2, value);
        put.executeUpdate();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      } finally {
        lock.unlock();
      }
    }

    void preload(byte[][] keys, byte[] value) {
      lock.lock();
      try {
        writer.setAutoCommit(false);
        for (byte[] k : keys) {
          put.setBytes(1, k);
          put.setBytes(2, value);
          put.executeUpdate();
        }
        writer.commit();
        writer.setAutoCommit(true);
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      } finally {
        lock.unlock();
      }
    }

    /** Checkpoints the whole WAL into the database file and truncates it. */
    void checkpoint() {
      lock.lock();
      try (Statement s = writer.createStatement();
          ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
        if (!rs.next() || rs.getInt(1) != 0) {
          throw new IllegalStateException("raw wal_checkpoint(TRUNCATE) reported busy");
        }
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void close() {
      try {
        put.close();
        writer.close();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** One thread's read-only connection with its prepared get. */
  static final class RawReader implements AutoCloseable {
    private final Connection conn;
    private final PreparedStatement get;

    RawReader(Path file) {
      try {
        conn = DriverManager.getConnection("jdbc:sqlite:" + file, config(true).toProperties());
        get = conn.prepareStatement("SELECT value FROM kv WHERE key = ?");
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    byte[] get(byte[] key) {
      try {
        get.setBytes(1, key);
        try (ResultSet rs = get.executeQuery()) {
          return rs.next() ? rs.getBytes(1) : null;
        }
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void close() {
      try {
        get.close();
        conn.close();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
