package io.cairn.bench.sqlite;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.sqlite.SQLiteConfig;

/**
 * The thin adapter behind the SQLite benchmarks: Cairn's SQLite backend through the registry
 * (instrumented, exactly as a service uses it) and raw sqlite-jdbc doing the same logical work on a
 * minimal table {@code kv(key BLOB PRIMARY KEY, value BLOB) WITHOUT ROWID} in WAL mode with the
 * same {@code synchronous} level, a reused prepared statement, generated-key fetching off and one
 * autocommit transaction per write. The raw table carries no version, expiry or checksum, so the
 * comparison is strict.
 *
 * <p>{@code RAW_JDBC_VERSIONED} is a second, fairer baseline reported beside the strict one (never
 * instead of it). The key-value benchmark overwrites keys with the value they already hold; for the
 * strict baseline the new row is then byte-identical to the old one, and SQLite's b-tree, finding
 * the cell unchanged, does not even mark the page dirty, so each raw "put" commits a transaction
 * that writes nothing (0 WAL frames per put, measured with {@code PRAGMA wal_checkpoint}). Cairn
 * must give every write a strictly greater version, so its row always changes and every put appends
 * a page to the WAL. The versioned baseline does that minimum too: the same table plus a {@code
 * version} column incremented in SQL by one UPSERT per put, still one autocommit statement and no
 * expiry or checksum.
 */
public interface SqliteBench extends AutoCloseable {
  byte[] get(byte[] key);

  void put(byte[] key, byte[] value);

  /** Loads {@code keys} with {@code value} in large transactions. */
  void preload(byte[][] keys, byte[] value);

  @Override
  void close();

  /** Implementations; baselines are the names not starting with CAIRN. */
  enum Impl {
    CAIRN_SQLITE,
    RAW_JDBC,
    RAW_JDBC_VERSIONED
  }

  static SqliteBench open(Impl impl, String durability) {
    Path dir;
    try {
      dir = Files.createTempDirectory("cairn-bench-sqlite");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return switch (impl) {
      case CAIRN_SQLITE -> new Cairn(dir, durability);
      case RAW_JDBC -> new Raw(dir, durability, false);
      case RAW_JDBC_VERSIONED -> new Raw(dir, durability, true);
    };
  }

  private static void deleteTree(Path dir) {
    io.cairn.bench.BenchFiles.deleteTree(dir);
  }

  /** Cairn through the registry. Thread-safe. */
  final class Cairn implements SqliteBench {
    private final Path dir;
    private final PersistenceRegistry registry;
    private final KeyValueStore store;

    Cairn(Path dir, String durability) {
      this.dir = dir;
      this.registry =
          PersistenceRegistry.open(
              ConfigFactory.parseString(
                  "cairn.backends.bench { type = sqlite, durability = "
                      + durability
                      + ", data-dir = "
                      + ConfigUtil.quoteString(dir.resolve("data").toString())
                      + " }"));
      this.store = registry.backend("bench").keyValue("bench");
    }

    @Override
    public byte[] get(byte[] key) {
      return store.get(key);
    }

    @Override
    public void put(byte[] key, byte[] value) {
      store.put(key, value);
    }

    @Override
    public void preload(byte[][] keys, byte[] value) {
      SqliteThreadsBenchmark.preload(store, keys, value);
    }

    @Override
    public void close() {
      registry.close();
      deleteTree(dir);
    }
  }

  /** Raw sqlite-jdbc; one connection, synchronised so several threads can share it. */
  final class Raw implements SqliteBench {
    private final Path dir;
    private final boolean deleteOnClose;
    private final Connection conn;
    private final PreparedStatement put;
    private final PreparedStatement get;

    Raw(Path dir, String durability, boolean versioned) {
      this(dir, durability, versioned, true);
    }

    /**
     * A database {@code raw.db} in {@code dir} (its table created if absent); {@code deleteOnClose}
     * removes the directory at {@link #close()}, else it is kept for the next open (a data set
     * built once).
     */
    public Raw(Path dir, String durability, boolean versioned, boolean deleteOnClose) {
      this.dir = dir;
      this.deleteOnClose = deleteOnClose;
      try {
        SQLiteConfig cfg = new SQLiteConfig();
        cfg.setJournalMode(SQLiteConfig.JournalMode.WAL);
        cfg.setSynchronous(
            switch (durability) {
              case "none" -> SQLiteConfig.SynchronousMode.OFF;
              case "full" -> SQLiteConfig.SynchronousMode.FULL;
              default -> SQLiteConfig.SynchronousMode.NORMAL;
            });
        cfg.setGetGeneratedKeys(false);
        conn =
            DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("raw.db"), cfg.toProperties());
        try (Statement s = conn.createStatement()) {
          s.execute(
              versioned
                  ? "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL,"
                      + " version INTEGER NOT NULL) WITHOUT ROWID"
                  : "CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL)"
                      + " WITHOUT ROWID");
        }
        put =
            conn.prepareStatement(
                versioned
                    ? "INSERT INTO kv (key, value, version) VALUES (?, ?, 1) ON CONFLICT (key)"
                        + " DO UPDATE SET value = excluded.value, version = version + 1"
                    : "INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)");
        get = conn.prepareStatement("SELECT value FROM kv WHERE key = ?");
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public synchronized byte[] get(byte[] key) {
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
    public synchronized void put(byte[] key, byte[] value) {
      try {
        put.setBytes(1, key);
        put.setBytes(2, value);
        put.executeUpdate();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void preload(byte[][] keys, byte[] value) {
      load(keys.length, i -> keys[(int) i], i -> value);
    }

    /**
     * Writes entries {@code 0..n-1} ({@code key(i)}, {@code value(i)}) in transactions of 100,000
     * (building a data set).
     */
    public synchronized void load(
        long n,
        java.util.function.LongFunction<byte[]> key,
        java.util.function.LongFunction<byte[]> value) {
      try {
        conn.setAutoCommit(false);
        for (long i = 0; i < n; i++) {
          put.setBytes(1, key.apply(i));
          put.setBytes(2, value.apply(i));
          put.executeUpdate();
          if (i % 100_000 == 99_999) {
            conn.commit();
          }
        }
        conn.commit();
        conn.setAutoCommit(true);
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public synchronized void close() {
      try {
        put.close();
        get.close();
        conn.close();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      } finally {
        if (deleteOnClose) {
          deleteTree(dir);
        }
      }
    }
  }
}
