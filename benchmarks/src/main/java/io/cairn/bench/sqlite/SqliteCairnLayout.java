package io.cairn.bench.sqlite;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteOpenMode;
import org.sqlite.core.CoreStatement;
import org.sqlite.core.DB;
import org.sqlite.core.SafeStmtPtr;

/**
 * The control of {@link SqliteThreadsBenchmark}: raw sqlite-jdbc on Cairn's on-disk layout, read
 * and written the way Cairn's backend does, without Cairn's Java code around the engine calls (no
 * registry timer, argument checks, reader pool, row-checksum verification or expiry test). So Cairn
 * / this control is the cost of Cairn's Java code, and this control / {@code RAW_SQLITE} the cost
 * of Cairn's layout and statement. What it copies from backend-sqlite ({@code SqliteDatabase},
 * {@code Conn}, {@code SqliteKeyValueStore}) at schema version 4:
 *
 * <ul>
 *   <li>The file: {@code auto_vacuum = INCREMENTAL} set on the empty file before WAL mode (pointer
 *       map pages in the file, as in {@code cairn.db}), WAL, {@code synchronous = NORMAL} (Cairn's
 *       {@code normal}), {@code wal_autocheckpoint = 1000}, {@code journal_size_limit} 64 MiB; the
 *       table {@code kv(ns TEXT, key BLOB, value BLOB, version INTEGER, expires_at INTEGER, crc
 *       INTEGER, PRIMARY KEY (ns, key)) WITHOUT ROWID} with the {@code catalog} table and its
 *       {@code kv_catalog} trigger (which every insert runs).
 *   <li>Connections: NOMUTEX, generated keys off, busy timeout 5 s, a 16 MiB page cache; readers
 *       opened read-write with {@code PRAGMA query_only = 1} (as Cairn's, not SQLITE_OPEN_READONLY
 *       as {@code RAW_SQLITE}'s), one per thread.
 *   <li>Rows: namespace {@code bench}, the caller's key, the 100-byte value (no encryption: Cairn
 *       stores it as given), a version, expiry 0 and a signed 32-bit CRC-32C (Cairn's covers the
 *       whole row; this one the value: the same column type and width).
 *   <li>The load: transactions of 4,096 rows, as Cairn's {@code putAll} batches in the benchmark's
 *       setup, so the WAL is left in the same state.
 *   <li>The get: Cairn's statement {@code SELECT value, version, expires_at, crc FROM kv WHERE ns =
 *       ? AND key = ?} run as {@code Conn.queryRow} runs it (sqlite-jdbc's public {@code
 *       DB.execute}, one native call per column, then a reset; no JDBC result set).
 *   <li>The put: Cairn's {@code INSERT OR REPLACE INTO kv (ns, key, value, version, expires_at,
 *       crc)}, one autocommit statement per put on one writer connection under a lock, as {@code
 *       RAW_SQLITE}'s (Cairn's group commit is Cairn's code).
 * </ul>
 */
final class SqliteCairnLayout implements AutoCloseable {
  static final String NS = "bench";
  static final String GET =
      "SELECT value, version, expires_at, crc FROM kv WHERE ns = ? AND key = ?";
  static final String PUT =
      "INSERT OR REPLACE INTO kv (ns, key, value, version, expires_at, crc)"
          + " VALUES (?, ?, ?, ?, ?, ?)";

  private final Path file;
  private final Connection writer;
  private final PreparedStatement put;
  private final ReentrantLock lock = new ReentrantLock();
  private long version = 1; // under the lock

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
            "CREATE TABLE kv (ns TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
                + " version INTEGER NOT NULL, expires_at INTEGER NOT NULL, crc INTEGER NOT NULL,"
                + " PRIMARY KEY (ns, key)) WITHOUT ROWID");
        s.execute(
            "CREATE TABLE catalog (kind TEXT NOT NULL, name TEXT NOT NULL, hw INTEGER NOT NULL,"
                + " PRIMARY KEY (kind, name)) WITHOUT ROWID");
        s.execute(
            "CREATE TRIGGER kv_catalog AFTER INSERT ON kv BEGIN"
                + " INSERT OR IGNORE INTO catalog (kind, name, hw) VALUES ('kv', NEW.ns, 0); END");
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
    cfg.setCacheSize(-16 * 1024);
    return cfg;
  }

  private static int crc(byte[] value) {
    CRC32C c = new CRC32C();
    c.update(value);
    return (int) c.getValue();
  }

  private void bindAndRun(byte[] key, byte[] value) throws SQLException {
    put.setString(1, NS);
    put.setBytes(2, key);
    put.setBytes(3, value);
    put.setLong(4, version++);
    put.setLong(5, 0);
    put.setInt(6, crc(value));
    put.executeUpdate();
  }

  void put(byte[] key, byte[] value) {
    lock.lock();
    try {
      bindAndRun(key, value);
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
        bindAndRun(keys[i], value);
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
    private final Object[] params = new Object[2];
    private final byte[][] blob = new byte[1][];
    private final long[] longs = new long[3];

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

    /** The stored value of {@code key}, or null; reads version, expiry and checksum too. */
    byte[] get(byte[] key) {
      params[0] = NS;
      params[1] = key;
      DB db = get.getDatabase();
      try {
        synchronized (db) {
          if (!db.execute(get, params)) {
            return null;
          }
          SafeStmtPtr pointer = get.pointer;
          long stmt = pointer.safeRunLong((d, p) -> p);
          try {
            blob[0] = db.column_blob(stmt, 0);
            for (int i = 0; i < longs.length; i++) {
              longs[i] = db.column_long(stmt, i + 1);
            }
            return blob[0];
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
