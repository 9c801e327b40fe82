package io.cairn.bench.sqlite;

import io.cairn.persistence.spi.EngineRecords;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteOpenMode;
import org.sqlite.core.CoreStatement;
import org.sqlite.core.DB;
import org.sqlite.core.SafeStmtPtr;

/**
 * The control of {@link SqliteThreadsBenchmark}: raw sqlite-jdbc on Cairn's on-disk layout, read
 * and written the way Cairn's backend does, without Cairn's Java code around the engine calls (no
 * registry timer, argument checks, reader pool, record-frame check or expiry test). So Cairn / this
 * control is the cost of Cairn's Java code, and this control / {@code RAW_SQLITE} the cost of
 * Cairn's layout and statement. What it copies from backend-sqlite ({@code SqliteDatabase}, {@code
 * Conn}, {@code SqliteEngine}, {@code EngineSchema}) at schema version 5 (the engine on the shared
 * base):
 *
 * <ul>
 *   <li>The file: {@code auto_vacuum = INCREMENTAL} set on the empty file before WAL mode (pointer
 *       map pages in the file, as in {@code cairn.db}), WAL, {@code synchronous = NORMAL} (Cairn's
 *       {@code normal}), {@code wal_autocheckpoint = 1000}, {@code journal_size_limit} 64 MiB; the
 *       table {@code rec(kind INTEGER, store TEXT, key BLOB, value BLOB, PRIMARY KEY (kind, store,
 *       key)) WITHOUT ROWID}.
 *   <li>Connections: NOMUTEX, generated keys off, busy timeout 5 s, an 18 MiB page cache; readers
 *       opened read-write with {@code PRAGMA query_only = 1} (as Cairn's, not SQLITE_OPEN_READONLY
 *       as {@code RAW_SQLITE}'s), one per thread.
 *   <li>Rows: kind 0 (key-value), store {@code bench}, the caller's key, and as value the base's
 *       framed entry built by {@link EngineRecords#entry} (tag, flags, version, expiry 0, the
 *       100-byte value as given: no encryption, the CRC-32C trailer SQLite's records carry), byte
 *       for byte what Cairn stores, so the rows and pages are the same size as Cairn's.
 *   <li>The load: transactions of 4,096 rows, as Cairn's {@code putAll} batches in the benchmark's
 *       setup, so the WAL is left in the same state.
 *   <li>The get: the engine's statement {@code SELECT value FROM rec WHERE kind = ? AND store = ?
 *       AND key = ?} run as {@code Conn.queryRow} runs it (sqlite-jdbc's public {@code DB.execute},
 *       one native call for the column, then a reset; no JDBC result set). The frame is not checked
 *       (the base's Java code).
 *   <li>The put: the engine's {@code INSERT OR REPLACE INTO rec (kind, store, key, value)}, one
 *       autocommit statement per put on one writer connection under a lock, as {@code RAW_SQLITE}'s
 *       (Cairn's group commit, version sequence and framing are Cairn's code; the frame is built
 *       outside the lock, as the base seals and frames before the engine write).
 * </ul>
 */
final class SqliteCairnLayout implements AutoCloseable {
  static final String NS = "bench";
  static final int KIND_KEY_VALUE = 0; // EngineSchema's fixed code
  static final String GET = "SELECT value FROM rec WHERE kind = ? AND store = ? AND key = ?";
  static final String PUT =
      "INSERT OR REPLACE INTO rec (kind, store, key, value) VALUES (?, ?, ?, ?)";

  /** Frames as the base of a SQLite backend does (no engine checksums: a CRC-32C trailer). */
  private static final EngineRecords RECORDS = new EngineRecords("bench", false);

  private final Path file;
  private final Connection writer;
  private final PreparedStatement put;
  private final ReentrantLock lock = new ReentrantLock();
  private final AtomicLong version = new AtomicLong(1); // as the base's version sequence

  SqliteCairnLayout(Path file) {
    this.file = file;
    try {
      writer = DriverManager.getConnection("jdbc:sqlite:" + file, config().toProperties());
      try (Statement s = writer.createStatement()) {
        s.execute("PRAGMA auto_vacuum = INCREMENTAL");
        try (ResultSet rs = s.executeQuery("PRAGMA journal_mode = WAL")) {
          if (!rs.next() || !"wal".equalsIgnoreCase(rs.getString(1))) {
            throw new IllegalStateException("the control's database did not take WAL mode");
          }
        }
        s.execute("PRAGMA synchronous = 1");
        s.execute("PRAGMA wal_autocheckpoint = 1000");
        s.execute("PRAGMA journal_size_limit = " + (64L << 20));
        s.execute(
            "CREATE TABLE rec (kind INTEGER NOT NULL, store TEXT NOT NULL, key BLOB NOT NULL,"
                + " value BLOB NOT NULL, PRIMARY KEY (kind, store, key)) WITHOUT ROWID");
        try (ResultSet rs = s.executeQuery("PRAGMA auto_vacuum")) {
          if (!rs.next() || rs.getInt(1) != 2) {
            throw new IllegalStateException("the control's database is not auto_vacuum=2");
          }
        }
      }
      put = writer.prepareStatement(PUT);
    } catch (SQLException e) {
      throw new IllegalStateException("creating the control's database " + file, e);
    }
  }

  /** Cairn's connection settings ({@code SqliteDatabase.open}), for the writer and readers. */
  static SQLiteConfig config() {
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setGetGeneratedKeys(false);
    cfg.setBusyTimeout(5000);
    cfg.setOpenMode(SQLiteOpenMode.NOMUTEX);
    cfg.setCacheSize(-18 * 1024); // Cairn's cache-size default
    return cfg;
  }

  /** The base's framed entry of {@code key}: what Cairn's engine is handed for a put. */
  private byte[] framed(byte[] key, byte[] value) {
    return RECORDS.entry(NS, key, version.getAndIncrement(), 0, value).value();
  }

  private void bindAndRun(byte[] key, byte[] framed) throws SQLException {
    put.setInt(1, KIND_KEY_VALUE);
    put.setString(2, NS);
    put.setBytes(3, key);
    put.setBytes(4, framed);
    put.executeUpdate();
  }

  void put(byte[] key, byte[] value) {
    byte[] framed = framed(key, value);
    lock.lock();
    try {
      bindAndRun(key, framed);
    } catch (SQLException e) {
      throw new IllegalStateException("control put", e);
    } finally {
      lock.unlock();
    }
  }

  /** Loads every key with {@code value} in transactions of 4,096 rows. */
  void preload(byte[][] keys, byte[] value) {
    lock.lock();
    try {
      writer.setAutoCommit(false);
      for (int i = 0; i < keys.length; i++) {
        bindAndRun(keys[i], framed(keys[i], value));
        if (i % 4096 == 4095) {
          writer.commit();
        }
      }
      writer.commit();
      writer.setAutoCommit(true);
    } catch (SQLException e) {
      throw new IllegalStateException("control preload", e);
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
        throw new IllegalStateException("control wal_checkpoint(TRUNCATE) reported busy");
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    } finally {
      lock.unlock();
    }
  }

  Reader reader() {
    return new Reader(file);
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

  /** One thread's connection: Cairn's reader settings and Cairn's point read. */
  static final class Reader implements AutoCloseable {
    private final Connection conn;
    private final CoreStatement get;
    private final Object[] params = new Object[3];

    Reader(Path file) {
      try {
        conn = DriverManager.getConnection("jdbc:sqlite:" + file, config().toProperties());
        try (Statement s = conn.createStatement()) {
          s.execute("PRAGMA query_only = 1");
        }
        get = (CoreStatement) conn.prepareStatement(GET);
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    /** The stored (framed) value of {@code key}, or null. */
    byte[] get(byte[] key) {
      params[0] = KIND_KEY_VALUE;
      params[1] = NS;
      params[2] = key;
      DB db = get.getDatabase();
      try {
        synchronized (db) {
          if (!db.execute(get, params)) {
            return null;
          }
          SafeStmtPtr pointer = get.pointer;
          long stmt = pointer.safeRunLong((d, p) -> p);
          try {
            return db.column_blob(stmt, 0);
          } finally {
            if (!pointer.isClosed()) {
              db.reset(stmt);
            }
          }
        }
      } catch (SQLException e) {
        throw new IllegalStateException("control get", e);
      }
    }

    @Override
    public void close() {
      try {
        ((PreparedStatement) get).close();
        conn.close();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
