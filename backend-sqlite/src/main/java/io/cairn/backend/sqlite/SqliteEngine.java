package io.cairn.backend.sqlite;

import com.codahale.metrics.CachedGauge;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.SlidingWindowReservoir;
import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.Durability;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.DataDirectory;
import io.cairn.persistence.spi.StorageEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SQLite backend's engine (issue 12): the {@link StorageEngine} primitives over one SQLite
 * database in WAL mode, for {@link io.cairn.persistence.spi.EngineBackend}, which owns every Cairn
 * rule above them. Records live in one table ({@link EngineSchema}: layout and schema version);
 * files, open-time checks, recovery and quarantine are those of {@link SqliteDatabase} through
 * {@link SqliteOpen}; engine errors are translated by {@link SqliteErrors}.
 *
 * <ul>
 *   <li><b>Writes</b> go through the {@link Writer}'s group commit: each batch is one write of the
 *       group, run under its own savepoint when the group holds others, so it commits or rolls back
 *       whole; concurrent batches from the base's write stripes share one transaction (and one
 *       fsync at {@code full}). Hence {@link #concurrentWrites()}. A batch asked at a durability
 *       above the connection's ({@code full} for imports and the expiry index marker on a {@code
 *       normal} backend) commits in a transaction of its own at {@code synchronous = FULL}, which
 *       in WAL mode also makes every earlier commit durable.
 *   <li><b>Reads</b> ({@link #get}, {@link #range}, {@link #stores}) borrow a reader connection
 *       from the {@link ReaderPool} per call: each is one SQLite read transaction, so it sees a
 *       batch all or none, and one that starts after a write returned sees it.
 *   <li><b>Snapshots</b> hold one reader connection in a read transaction until closed: the writer
 *       never waits for it; a WAL checkpoint cannot pass it (the WAL grows while it is open).
 * </ul>
 *
 * <p>Durability mapping: {@code none} → {@code PRAGMA synchronous = OFF}, {@code normal} → {@code
 * NORMAL}, {@code full} → {@code FULL} (as the SQLite backend documents).
 */
final class SqliteEngine implements StorageEngine {
  private static final Logger log = LoggerFactory.getLogger(SqliteEngine.class);

  /** Free pages given back per compact() transaction. */
  private static final int VACUUM_STEP = 4096;

  /** Commits whose batch size the {@code commit-batch-size} histogram describes: the latest. */
  static final int COMMIT_SIZES_KEPT = 4096;

  /** Stores whose point-get statement text {@link #pointGet} keeps. */
  static final int POINT_GET_TEXTS = 4096;

  private static final long[] NO_LONGS = new long[0];
  private static final byte[] EMPTY = new byte[0];

  static final String GET = "SELECT value FROM rec WHERE kind = ? AND store = ? AND key = ?";
  static final String RANGE =
      "SELECT key, value FROM rec WHERE kind = ? AND store = ? AND key >= ?"
          + " ORDER BY key LIMIT ?";
  static final String RANGE_TO =
      "SELECT key, value FROM rec WHERE kind = ? AND store = ? AND key >= ? AND key < ?"
          + " ORDER BY key LIMIT ?";
  static final String NEXT_STORE =
      "SELECT kind, store FROM rec WHERE (kind, store) > (?, ?) ORDER BY kind, store LIMIT 1";
  static final String PUT =
      "INSERT OR REPLACE INTO rec (kind, store, key, value) VALUES (?, ?, ?, ?)";
  static final String DELETE = "DELETE FROM rec WHERE kind = ? AND store = ? AND key = ?";

  private final BackendContext ctx;
  private final SqliteSettings settings;
  private final Durability durability;
  private final Path db;
  private final DataDirectory dataDir;
  private final SqliteErrors errors;
  private final Writer writer;
  private final ReaderPool readers;
  private final ConcurrentHashMap<StoreId, String> pointGets = new ConcurrentHashMap<>();
  private final BackgroundCheck backgroundCheck;
  private final MetricRegistry metrics;
  private final String metricPrefix;
  private volatile boolean closed;

  private SqliteEngine(BackendContext ctx, SqliteSettings settings, SqliteOpen.Opened o) {
    this.ctx = ctx;
    this.settings = settings;
    this.durability = ctx.durability();
    this.dataDir = o.dataDir();
    this.db = dataDir.path().resolve(SqliteDatabase.DB_FILE);
    this.metrics = ctx.metrics();
    this.metricPrefix = ctx.metricPrefix() + ".sqlite";
    this.errors = new SqliteErrors(ctx.name(), ctx.describe(), db, () -> closed);
    errors.attach(dataDir);
    WalGuard guard = o.guard();
    this.writer =
        new Writer(
            o.writer(),
            errors,
            settings.maxBatch(),
            // the sizes of the last COMMIT_SIZES_KEPT commits. The registry's default reservoir
            // (a lock, a skip-list insert and an exp() per update) and the lock-free exponentially
            // decaying one cost 4-6 % of a one-thread put's CPU; this one stores into an array,
            // and only the writer (under its lock) updates it (benchmarks/RESULTS-sqlite.md,
            // 2026-12-07)
            metrics.histogram(
                metricPrefix + ".commit-batch-size",
                () -> new Histogram(new SlidingWindowReservoir(COMMIT_SIZES_KEPT))),
            guard);
    guard.afterCommit(); // the state SQLite recovered at open
    if (guard.disabledReason() != null && !dataDir.readOnly()) {
      log.warn(
          "{}: commit tracking for WAL damage detection is off: {}",
          ctx.describe(),
          guard.disabledReason());
    }
    this.readers =
        new ReaderPool(
            () -> SqliteDatabase.openReader(db, settings, durability),
            settings.readers(),
            settings.busyTimeout(),
            errors);
    registerGauges();
    this.backgroundCheck =
        settings.openCheck() == SqliteSettings.OpenCheck.BACKGROUND && !dataDir.readOnly()
            ? BackgroundCheck.start(
                ctx.describe(),
                ctx.name(),
                db,
                () -> SqliteDatabase.open(db, settings, durability, false),
                ctx.events(),
                BackgroundCheck.START_DELAY)
            : null;
  }

  /**
   * Opens the engine of {@code ctx}'s data directory, following the recovery rules on {@link
   * SqliteDatabase} with schema {@link EngineSchema}. Leaves nothing open or locked if it throws.
   */
  static SqliteEngine open(BackendContext ctx) {
    SqliteSettings settings = SqliteSettings.of(ctx.config(), "cairn.backends." + ctx.name());
    return open(ctx, settings);
  }

  static SqliteEngine open(BackendContext ctx, SqliteSettings settings) {
    SqliteOpen.Opened o =
        DataDirectory.readOnlyRequested(ctx)
            ? SqliteOpen.openReadOnly(ctx, settings)
            : SqliteOpen.open(ctx, settings, EngineSchema.SCHEMA);
    try {
      return new SqliteEngine(ctx, settings, o);
    } catch (RuntimeException e) {
      o.closeAll();
      throw e;
    }
  }

  // ---- reads ----

  @Override
  public byte[] get(StoreId store, byte[] key) {
    return readers.read("get", store, c -> getIn(c, store, key));
  }

  private byte[] getIn(Conn c, StoreId store, byte[] key) throws SQLException {
    String sql = pointGet(store);
    if (sql != null) {
      return c.queryBlob(sql, key);
    }
    byte[][] value = new byte[1][];
    Object[] params = {EngineSchema.code(store.kind()), store.name(), key};
    return c.queryRow(GET, params, value, NO_LONGS) ? value[0] : null;
  }

  /**
   * {@link #GET} with {@code store}'s kind and name written into the statement as literals, so a
   * get binds only its key ({@link Conn#queryBlob}); null for a name that is not plain printable
   * ASCII without a quote (such a store is read with {@link #GET} and three bound parameters). The
   * texts are made once per store and kept up to {@link #POINT_GET_TEXTS} stores.
   */
  private String pointGet(StoreId store) {
    String sql = pointGets.get(store);
    if (sql == null) {
      String name = store.name();
      for (int i = 0; i < name.length(); i++) {
        char ch = name.charAt(i);
        if (ch < 0x20 || ch > 0x7E || ch == '\'') {
          return null;
        }
      }
      if (pointGets.size() >= POINT_GET_TEXTS) {
        pointGets.clear(); // many stores: start over rather than grow without bound
      }
      sql =
          "SELECT value FROM rec WHERE kind = "
              + EngineSchema.code(store.kind())
              + " AND store = '"
              + name
              + "' AND key = ?";
      pointGets.put(store, sql);
    }
    return sql;
  }

  @Override
  public List<Record> range(StoreId store, byte[] fromInclusive, byte[] toExclusive, int limit) {
    return readers.read("range", store, c -> rangeIn(c, store, fromInclusive, toExclusive, limit));
  }

  private static List<Record> rangeIn(Conn c, StoreId store, byte[] from, byte[] to, int limit)
      throws SQLException {
    PreparedStatement ps = c.prepare(to == null ? RANGE : RANGE_TO);
    int i = 1;
    ps.setInt(i++, EngineSchema.code(store.kind()));
    ps.setString(i++, store.name());
    ps.setBytes(i++, from);
    if (to != null) {
      ps.setBytes(i++, to);
    }
    ps.setInt(i, limit);
    List<Record> out = new ArrayList<>(Math.min(limit, 256));
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(new Record(orEmpty(rs.getBytes(1)), orEmpty(rs.getBytes(2))));
      }
    }
    return out;
  }

  /** The driver returns a zero-length BLOB as null; the column is NOT NULL, so it is empty. */
  private static byte[] orEmpty(byte[] b) {
    return b == null ? EMPTY : b;
  }

  @Override
  public SortedSet<StoreId> stores() {
    return readers.read(
        "list stores",
        null,
        c -> {
          SortedSet<StoreId> out = new TreeSet<>();
          PreparedStatement ps = c.prepare(NEXT_STORE);
          long kind = -1;
          String name = "";
          while (true) {
            ps.setLong(1, kind);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return Collections.unmodifiableSortedSet(out);
              }
              kind = rs.getLong(1);
              name = rs.getString(2);
            }
            out.add(new StoreId(EngineSchema.kind(kind, db), name));
          }
        });
  }

  @Override
  public boolean offersSnapshots() {
    return true;
  }

  /**
   * A read transaction on a reader connection held until {@link Snapshot#close()}: costs one {@code
   * BEGIN} and one small read; nobody waits for it, but while it is open no checkpoint passes its
   * position in the WAL.
   */
  @Override
  public Snapshot snapshot() {
    ReaderPool.Pinned pinned = readers.pin();
    return new Snapshot() {
      @Override
      public byte[] get(StoreId store, byte[] key) {
        return pinned.read("get", store, c -> getIn(c, store, key));
      }

      @Override
      public List<Record> range(StoreId store, byte[] from, byte[] to, int limit) {
        return pinned.read("range", store, c -> rangeIn(c, store, from, to, limit));
      }

      @Override
      public void close() {
        pinned.close();
      }
    };
  }

  // ---- writes ----

  @Override
  public boolean concurrentWrites() {
    return true; // the group commit serialises them and keeps each batch atomic
  }

  @Override
  public void write(List<Write> batch, Durability wanted) {
    Object where = batch.size() == 1 ? batch.get(0).store() : batch.size() + " records";
    Writer.WriteOp<Void> op =
        s -> {
          apply(s.conn(), batch);
          return null;
        };
    if (wanted.compareTo(durability) > 0) {
      writer.ownTransaction("write", where, true, op);
    } else {
      writer.submit(batch.size() == 1, "write", where, op);
    }
  }

  private static void apply(Conn c, List<Write> batch) throws SQLException {
    for (Write w : batch) {
      PreparedStatement ps = c.prepare(w.isDelete() ? DELETE : PUT);
      ps.setInt(1, EngineSchema.code(w.store().kind()));
      ps.setString(2, w.store().name());
      ps.setBytes(3, w.key());
      if (!w.isDelete()) {
        ps.setBytes(4, w.value());
      }
      ps.executeUpdate();
    }
  }

  // ---- maintenance ----

  /** {@code PRAGMA integrity_check} on a connection of its own (read-only, safe while in use). */
  @Override
  public void verify(List<String> problems, Progress progress) {
    Conn c = null;
    try {
      c = SqliteDatabase.open(db, settings, durability, false);
      long pages = c.queryLong("PRAGMA page_count");
      progress.report("integrity_check", 0, pages);
      for (String p : SqliteDatabase.integrityCheck(c)) {
        problems.add(db + ": " + p);
      }
      progress.report("integrity_check", pages, pages);
    } catch (SQLException e) {
      problems.add(db + ": " + errors.translate(e, "verify", null).getMessage());
    } catch (PersistenceException e) {
      problems.add(db + ": " + e.getMessage());
    } finally {
      if (c != null) {
        c.close();
      }
    }
  }

  /**
   * Gives free pages back: a file without incremental auto-vacuum is converted once by a full
   * VACUUM, then {@code incremental_vacuum} runs in transactions of {@link #VACUUM_STEP} pages that
   * let other writers in between, and the WAL is checkpointed and truncated.
   */
  @Override
  public void compact(Progress progress) {
    long mode =
        writer.exclusive("compact (auto_vacuum)", s -> s.conn().queryLong("PRAGMA auto_vacuum"));
    if (mode != 2) {
      // a file created before schema v3 (or by a Cairn that set WAL mode first) has auto_vacuum =
      // NONE, which only a full VACUUM changes. Needs free space up to the file's size.
      log.info(
          "{}: converting {} to incremental auto-vacuum with a one-time VACUUM (auto_vacuum was"
              + " {}); this rewrites the whole file",
          ctx.describe(),
          db,
          mode);
      progress.report("vacuum (one-time conversion to incremental auto-vacuum)", 0, 1);
      writer.exclusive(
          "compact (VACUUM to enable incremental auto-vacuum)",
          s -> {
            s.conn().execOnce("PRAGMA auto_vacuum = INCREMENTAL");
            s.conn().execOnce("VACUUM");
            return null;
          });
      progress.report("vacuum (one-time conversion to incremental auto-vacuum)", 1, 1);
    }
    long free =
        writer.exclusive(
            "compact (freelist_count)", s -> s.conn().queryLong("PRAGMA freelist_count"));
    // SQLite frees one page per step of "PRAGMA incremental_vacuum" and the driver steps a
    // statement once, so it runs once per free page
    progress.report("incremental_vacuum", 0, free);
    for (long done = 0; done < free; ) {
      long n = Math.min(VACUUM_STEP, free - done);
      writer.exclusive(
          "compact (incremental_vacuum)",
          s -> {
            s.conn().exec("BEGIN IMMEDIATE");
            try {
              for (long k = 0; k < n; k++) {
                s.conn().execOnce("PRAGMA incremental_vacuum(1)");
              }
              s.conn().exec("COMMIT");
            } catch (SQLException e) {
              try {
                s.conn().exec("ROLLBACK");
              } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
              }
              throw e;
            }
            return null;
          });
      done += n;
      progress.report("incremental_vacuum", done, free);
    }
    progress.report("wal_checkpoint", 0, 1);
    writer.exclusive("compact (wal_checkpoint)", s -> writer.checkpointAndTruncate(s));
    progress.report("wal_checkpoint", 1, 1);
  }

  /** {@code VACUUM INTO} a new {@code cairn.db} in {@code target}: one read transaction. */
  @Override
  public void checkpoint(Path target, Progress progress) {
    Path dir = target.toAbsolutePath().normalize();
    Path out = dir.resolve(SqliteDatabase.DB_FILE);
    try {
      if (Files.exists(dir)) {
        try (var entries = Files.list(dir)) {
          if (entries.findAny().isPresent()) {
            throw new IllegalArgumentException(
                "Checkpoint target " + dir + " is not empty; give an empty or absent directory");
          }
        }
      }
      DataDirectory.createPrivateDirectories(dir);
    } catch (IOException e) {
      throw errors.translate(e, "checkpoint", dir);
    }
    progress.report("vacuum-into", 0, 1);
    Conn c = null;
    try {
      c = new Conn(java.sql.DriverManager.getConnection("jdbc:sqlite:" + db));
      c.execOnce("VACUUM INTO '" + out.toString().replace("'", "''") + "'");
    } catch (SQLException e) {
      throw errors.translate(e, "checkpoint into " + dir, null);
    } finally {
      if (c != null) {
        c.close();
      }
    }
    try {
      DataDirectory.tightenTree(dir);
    } catch (IOException e) {
      throw errors.translate(e, "checkpoint (file permissions)", out);
    }
    progress.report("vacuum-into", 1, 1);
  }

  @Override
  public long diskBytes() {
    return fileSize(db) + fileSize(walFile()) + fileSize(db.resolveSibling("cairn.db-shm"));
  }

  @Override
  public Map<String, String> properties() {
    return readers.read(
        "properties",
        null,
        c -> {
          Map<String, String> props = new LinkedHashMap<>();
          props.put("sqlite.version", c.queryString("SELECT sqlite_version()"));
          props.put("journal_mode", c.queryString("PRAGMA journal_mode"));
          props.put(
              "synchronous",
              switch (durability) {
                case NONE -> "OFF";
                case NORMAL -> "NORMAL";
                case FULL -> "FULL";
              });
          props.put("schema_version", String.valueOf(c.queryLong("PRAGMA user_version")));
          props.put("page_size", String.valueOf(c.queryLong("PRAGMA page_size")));
          props.put("page_count", String.valueOf(c.queryLong("PRAGMA page_count")));
          props.put("freelist_count", String.valueOf(c.queryLong("PRAGMA freelist_count")));
          props.put("wal_bytes", String.valueOf(fileSize(walFile())));
          props.put("wal_autocheckpoint", String.valueOf(settings.walAutocheckpointPages()));
          props.put("journal_size_limit", String.valueOf(settings.journalSizeLimitBytes()));
          props.put("mmap_size", String.valueOf(settings.mmapSizeBytes())); // readers only
          props.put("file", db.toString());
          return props;
        });
  }

  /** The data directory's problem, the background check's finding, the last failed commit. */
  @Override
  public HealthCheck.Result health() {
    java.util.Optional<String> directory = dataDir.problem();
    if (directory.isPresent()) {
      return HealthCheck.Result.unhealthy(directory.get());
    }
    String damage = backgroundCheck == null ? null : backgroundCheck.problem();
    if (damage != null) {
      return HealthCheck.Result.unhealthy(damage);
    }
    String failure = writer.lastFailure();
    if (failure != null) {
      return HealthCheck.Result.unhealthy(ctx.describe() + ": the last commit failed: " + failure);
    }
    return null;
  }

  /** The writer (group commit over the writer connection); for tests. */
  Writer writer() {
    return writer;
  }

  /** The reader connections; for tests. */
  ReaderPool readers() {
    return readers;
  }

  /** The check of {@code open-check = background}, or null; for tests. */
  BackgroundCheck backgroundCheck() {
    return backgroundCheck;
  }

  private void registerGauges() {
    gauge("db-bytes", () -> fileSize(db));
    gauge("wal-bytes", () -> fileSize(walFile()));
    gauge("page-count", cached(() -> pragma("page_count")));
    gauge("freelist-pages", cached(() -> pragma("freelist_count")));
    gauge("page-size", cached(() -> pragma("page_size")));
  }

  private void gauge(String name, Gauge<Long> g) {
    String full = metricPrefix + "." + name;
    metrics.remove(full);
    metrics.register(full, g);
  }

  private static Gauge<Long> cached(java.util.function.Supplier<Long> s) {
    return new CachedGauge<Long>(5, TimeUnit.SECONDS) {
      @Override
      protected Long loadValue() {
        try {
          return s.get();
        } catch (RuntimeException e) {
          return -1L;
        }
      }
    };
  }

  private long pragma(String name) {
    return readers.read("PRAGMA " + name, null, c -> c.queryLong("PRAGMA " + name));
  }

  private Path walFile() {
    return db.resolveSibling(SqliteDatabase.DB_FILE + "-wal");
  }

  private static long fileSize(Path p) {
    try {
      return Files.exists(p) ? Files.size(p) : 0;
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * Stops the background check, closes the readers (so the writer's checkpoint at close is not held
   * up), then the writer (WAL checkpoint and truncate, commit mark clean), then the directory.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (backgroundCheck != null) {
        backgroundCheck.close();
      }
      readers.close();
      writer.close();
    } finally {
      metrics.removeMatching((n, m) -> n.startsWith(metricPrefix + "."));
      dataDir.close();
    }
  }

  @Override
  public String toString() {
    return "SqliteEngine[" + ctx.describe() + "]";
  }
}
