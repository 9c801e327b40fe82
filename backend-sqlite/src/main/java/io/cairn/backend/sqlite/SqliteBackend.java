package io.cairn.backend.sqlite;

import com.codahale.metrics.CachedGauge;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Capability;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.CallGuard;
import io.cairn.persistence.spi.DataDirectory;
import io.cairn.persistence.spi.ExpirySweeper;
import io.cairn.persistence.spi.Sealer;
import io.cairn.persistence.spi.SnapshotIndexCheck;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link StorageBackend} on one SQLite database file in WAL mode. On-disk layout, schema,
 * migrations and recovery rules are documented on {@link SqliteDatabase}; engine errors are
 * translated by {@link SqliteErrors}; group commit is described on {@link Writer}.
 *
 * <p>Durability mapping: {@code none} → {@code PRAGMA synchronous = OFF} (commits reach the OS, no
 * fsync: survives a process crash in WAL mode but not an OS crash); {@code normal} → {@code NORMAL}
 * (WAL fsynced at checkpoints only: survives a process crash, an OS crash may lose the last
 * commits); {@code full} → {@code FULL} (WAL fsynced at every commit, shared by a group commit).
 *
 * <p>Thread-safe. One writer connection with group commit, {@code readers} reader connections, one
 * daemon sweeper thread for expired entries (if {@code sweeper-interval > 0}), with {@code
 * open-check = background} one daemon thread and connection for the check after open (see {@link
 * BackgroundCheck}), one lock file. All are released by {@link #close()}.
 */
final class SqliteBackend implements StorageBackend {
  private static final Logger log = LoggerFactory.getLogger(SqliteBackend.class);

  /** Free pages given back per compact() transaction. */
  private static final int VACUUM_STEP = 4096;

  private final BackendContext ctx;
  private final SqliteSettings settings;
  private final Path db;
  private final DataDirectory dataDir;
  private final SqliteErrors errors;
  private final Writer writer;
  private final ReaderPool readers;
  private final ExpirySweeper sweeper;

  /** The check of open-check = background, or null. */
  private final BackgroundCheck backgroundCheck;

  private final Sealer sealer;
  private final Clock clock;
  private final String metricPrefix;
  private final MetricRegistry metrics;
  private final AtomicLong saveIds;
  private final Set<Long> activeSaves = ConcurrentHashMap.newKeySet();
  private final Map<String, SqliteKeyValueStore> kvStores = new ConcurrentHashMap<>();
  private final Map<String, SqliteLogStore> logStores = new ConcurrentHashMap<>();
  private final Map<String, SqliteSnapshotStore> snapshotStores = new ConcurrentHashMap<>();
  private final SqliteImporter importer = new SqliteImporter(this);
  private final CallGuard closeGuard;

  private SqliteBackend(
      BackendContext ctx,
      SqliteSettings settings,
      DataDirectory dataDir,
      Conn writerConn,
      WalGuard guard) {
    this.ctx = ctx;
    this.settings = settings;
    this.db = ctx.dataDir().resolve(SqliteDatabase.DB_FILE);
    this.dataDir = dataDir;
    this.sealer = Sealer.of(ctx);
    this.clock = ctx.clock();
    this.metrics = ctx.metrics();
    this.metricPrefix = ctx.metricPrefix() + ".sqlite";
    this.closeGuard = new CallGuard(() -> new BackendClosedException(ctx.name()));
    this.errors = new SqliteErrors(ctx.name(), ctx.describe(), db, closeGuard::isClosed);
    errors.attach(dataDir);
    Histogram batchSizes = metrics.histogram(metricPrefix + ".commit-batch-size");
    this.writer = new Writer(writerConn, errors, settings.maxBatch(), clock, batchSizes, guard);
    guard.afterCommit(); // the state SQLite recovered at open
    if (guard.disabledReason() != null && !dataDir.readOnly()) {
      log.warn(
          "{}: commit tracking for WAL damage detection is off: {}",
          ctx.describe(),
          guard.disabledReason());
    }
    this.readers =
        new ReaderPool(
            () -> SqliteDatabase.open(db, settings, ctx.durability(), false),
            settings.readers(),
            settings.busyTimeout(),
            errors);
    this.saveIds =
        new AtomicLong(
            errors.run(
                    "open",
                    null,
                    () ->
                        writerConn.queryLong(
                            "SELECT max(coalesce((SELECT max(save_id) FROM snapshot), 0),"
                                + " coalesce((SELECT max(save_id) FROM snapshot_chunk), 0))"))
                + 1);
    registerGauges();
    this.backgroundCheck =
        settings.openCheck() == SqliteSettings.OpenCheck.BACKGROUND && !dataDir.readOnly()
            ? BackgroundCheck.start(
                ctx.describe(),
                ctx.name(),
                db,
                () -> SqliteDatabase.open(db, settings, ctx.durability(), false),
                ctx.events(),
                BackgroundCheck.START_DELAY)
            : null;
    this.sweeper =
        ExpirySweeper.start(
            "cairn-sqlite-sweeper-" + ctx.name(),
            ctx.describe(),
            dataDir.readOnly() ? java.time.Duration.ZERO : settings.sweeperInterval(),
            () -> purgeExpired(null),
            closeGuard::isClosed);
  }

  /**
   * Opens the backend described by {@code ctx}, following the recovery rules on {@link
   * SqliteDatabase} ({@link SqliteOpen}). Leaves nothing open or locked if it throws.
   */
  static SqliteBackend open(BackendContext ctx) {
    SqliteSettings settings = SqliteSettings.of(ctx.config(), "cairn.backends." + ctx.name());
    SqliteOpen.Opened o =
        DataDirectory.readOnlyRequested(ctx)
            ? SqliteOpen.openReadOnly(ctx, settings)
            : SqliteOpen.open(ctx, settings, SCHEMA);
    try {
      return new SqliteBackend(ctx, settings, o.dataDir(), o.writer(), o.guard());
    } catch (RuntimeException e) {
      o.closeAll();
      throw e;
    }
  }

  /** Schema v4 (SqliteDatabase): migrate forward, then delete chunks of interrupted saves. */
  private static final SqliteOpen.Schema SCHEMA =
      new SqliteOpen.Schema() {
        @Override
        public void prepare(Conn c, String describe, Path db) throws SQLException {
          SqliteDatabase.migrate(c, describe, db);
        }

        @Override
        public void cleanUp(Conn c) throws SQLException {
          deleteOrphanChunks(c, Set.of());
        }
      };

  /**
   * The next save id above {@code ?} that has chunks: one seek in the chunk table's primary-key
   * index. Issue 15: the cleanup below used to be one {@code DELETE ... WHERE save_id NOT IN
   * (...)}, which SQLite runs as a scan of the whole chunk table, so open time grew with the bytes
   * of every stored snapshot.
   */
  static final String NEXT_CHUNK_SAVE_ID =
      "SELECT save_id FROM snapshot_chunk WHERE save_id > ? ORDER BY save_id LIMIT 1";

  /**
   * Deletes the chunks of saves that have no snapshot row (interrupted saves) and are not {@code
   * active}. Reads the snapshot rows (one per retained snapshot) and one index seek per distinct
   * save id among the chunks, never the chunks themselves: constant in the snapshots' size.
   */
  static int deleteOrphanChunks(Conn c, Set<Long> active) throws SQLException {
    Set<Long> live = new java.util.HashSet<>(active);
    try (Statement st = c.jdbc().createStatement();
        java.sql.ResultSet rs = st.executeQuery("SELECT save_id FROM snapshot")) {
      while (rs.next()) {
        live.add(rs.getLong(1));
      }
    }
    int deleted = 0;
    try (java.sql.PreparedStatement next = c.jdbc().prepareStatement(NEXT_CHUNK_SAVE_ID);
        java.sql.PreparedStatement delete =
            c.jdbc().prepareStatement(SqliteSnapshotStore.DELETE_CHUNKS)) {
      long after = Long.MIN_VALUE;
      while (true) {
        next.setLong(1, after);
        try (java.sql.ResultSet rs = next.executeQuery()) {
          if (!rs.next()) {
            return deleted;
          }
          after = rs.getLong(1);
        }
        if (!live.contains(after)) {
          delete.setLong(1, after);
          deleted += delete.executeUpdate();
        }
      }
    }
  }

  private void registerGauges() {
    Path wal = db.resolveSibling(SqliteDatabase.DB_FILE + "-wal");
    gauge("db-bytes", () -> fileSize(db));
    gauge("wal-bytes", () -> fileSize(wal));
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

  private static long fileSize(Path p) {
    try {
      return Files.exists(p) ? Files.size(p) : 0;
    } catch (IOException e) {
      return -1;
    }
  }

  // ---- accessors for the stores ----

  Writer writer() {
    return writer;
  }

  ReaderPool readers() {
    return readers;
  }

  SqliteErrors errors() {
    return errors;
  }

  Clock clock() {
    return clock;
  }

  SqliteSettings settings() {
    return settings;
  }

  String describe() {
    return ctx.describe();
  }

  /** The one point where values, payloads and chunks are sealed and opened (see Sealer). */
  Sealer sealer() {
    return sealer;
  }

  long beginSave() {
    ensureOpen();
    long id = saveIds.getAndIncrement();
    activeSaves.add(id);
    return id;
  }

  /** Ends save {@code id}; a failed save's chunks are deleted (best effort, else by compact). */
  void endSave(long id, boolean published) {
    try {
      if (!published && !closeGuard.isClosed()) {
        writer.submit(
            true,
            "discard an unfinished snapshot",
            "save " + id,
            s -> {
              SqliteSnapshotStore.deleteChunks(s.conn(), id);
              return null;
            });
      }
    } catch (RuntimeException e) {
      log.debug("Could not discard chunks of unfinished save {}: {}", id, e.toString());
    } finally {
      activeSaves.remove(id);
    }
  }

  /**
   * One write of the importer ({@link SqliteImporter}): a transaction of its own, fsynced at its
   * commit unless the backend runs at durability none (which promises nothing more for an import
   * than for any write).
   */
  <T> T importWrite(String what, Object where, Writer.WriteOp<T> op) {
    ensureOpen();
    return writer.ownTransaction(what, where, ctx.durability() != Durability.NONE, op);
  }

  void ensureOpen() {
    closeGuard.ensureOpen();
  }

  // ---- StorageBackend ----

  @Override
  public String name() {
    return ctx.name();
  }

  @Override
  public String type() {
    return SqliteBackendProvider.TYPE;
  }

  @Override
  public Durability durability() {
    return ctx.durability();
  }

  @Override
  public Set<Capability> capabilities() {
    // Read-only keeps CHECKPOINT: VACUUM INTO only reads the database (one read transaction).
    return Collections.unmodifiableSet(
        EnumSet.of(
            Capability.DURABLE,
            Capability.CHECKPOINT,
            Capability.LARGE_SNAPSHOTS,
            Capability.ENCRYPTION,
            Capability.SNAPSHOT_READS));
  }

  @Override
  public KeyValueStore keyValue(String namespace) {
    ensureOpen();
    ArgumentChecks.check("namespace", namespace);
    return kvStores.computeIfAbsent(namespace, n -> new SqliteKeyValueStore(this, n));
  }

  @Override
  public LogStore log(String name) {
    ensureOpen();
    ArgumentChecks.check("log", name);
    return logStores.computeIfAbsent(name, n -> new SqliteLogStore(this, n));
  }

  @Override
  public SnapshotStore snapshots(String name) {
    ensureOpen();
    ArgumentChecks.check("snapshot set", name);
    return snapshotStores.computeIfAbsent(name, n -> new SqliteSnapshotStore(this, n));
  }

  /** {@link io.cairn.persistence.Importer}: see {@link SqliteImporter}. */
  @Override
  public <T> java.util.Optional<T> extension(Class<T> type) {
    java.util.Objects.requireNonNull(type, "type");
    if (type == io.cairn.persistence.Importer.class) {
      return java.util.Optional.of(type.cast(importer));
    }
    return java.util.Optional.empty();
  }

  @Override
  public <T> T inTransaction(Transaction.Work<T> work) {
    java.util.Objects.requireNonNull(work, "work");
    ensureOpen();
    return writer.inTransaction(s -> SqliteTransaction.runWork(this, s, work));
  }

  /**
   * A deferred read transaction on one reader connection held for the whole work ({@link
   * ReaderPool#snapshot}): one WAL snapshot for every read, the writer never waits for it.
   */
  @Override
  public <T> T readTransaction(Transaction.ReadWork<T> work) {
    java.util.Objects.requireNonNull(work, "work");
    ensureOpen();
    return readers.snapshot(reads -> work.run(new SqliteReadView(this, reads, clock.millis())));
  }

  /** Distinct values of the leading key column, found by skipping through the index. */
  private static final String DISTINCT =
      "WITH RECURSIVE d(v) AS (SELECT min(%2$s) FROM %1$s UNION ALL"
          + " SELECT (SELECT min(%2$s) FROM %1$s WHERE %2$s > d.v) FROM d WHERE d.v IS NOT NULL)"
          + " SELECT v FROM d WHERE v IS NOT NULL";

  @Override
  public SortedSet<StoreId> stores() {
    return readers.read(
        "list stores",
        null,
        c -> {
          SortedSet<StoreId> out = new TreeSet<>();
          addDistinct(c, "kv", "ns", StoreKind.KEY_VALUE, out);
          addDistinct(c, "log_record", "log", StoreKind.LOG, out);
          addDistinct(c, "log_meta", "log", StoreKind.LOG, out);
          addDistinct(c, "snapshot", "store", StoreKind.SNAPSHOT, out);
          return Collections.unmodifiableSortedSet(out);
        });
  }

  private static void addDistinct(
      Conn c, String table, String column, StoreKind kind, SortedSet<StoreId> out)
      throws SQLException {
    try (PreparedStatement ps = c.jdbc().prepareStatement(String.format(DISTINCT, table, column));
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(new StoreId(kind, rs.getString(1)));
      }
    }
  }

  @Override
  public BackendStats stats() {
    return readers.read(
        "stats",
        null,
        c -> {
          List<StoreStats> stores = new ArrayList<>();
          collect(
              c,
              "SELECT ns, count(*), sum(length(key) + length(value)) FROM kv GROUP BY ns",
              StoreKind.KEY_VALUE,
              stores);
          collect(
              c,
              "SELECT log, count(*), sum(length(payload)) FROM log_record GROUP BY log",
              StoreKind.LOG,
              stores);
          collect(
              c,
              "SELECT store, count(*), sum(size) FROM snapshot GROUP BY store",
              StoreKind.SNAPSHOT,
              stores);
          stores.sort((a, b) -> a.store().compareTo(b.store()));
          Map<String, String> props = new LinkedHashMap<>();
          props.put("sqlite.version", c.queryString("SELECT sqlite_version()"));
          props.put("journal_mode", c.queryString("PRAGMA journal_mode"));
          props.put("synchronous", writerSynchronous());
          props.put("schema_version", String.valueOf(c.queryLong("PRAGMA user_version")));
          props.put("page_size", String.valueOf(c.queryLong("PRAGMA page_size")));
          props.put("page_count", String.valueOf(c.queryLong("PRAGMA page_count")));
          props.put("freelist_count", String.valueOf(c.queryLong("PRAGMA freelist_count")));
          props.put("wal_bytes", String.valueOf(fileSize(walFile())));
          // the writer's WAL limits (settings: reader connections keep SQLite's defaults)
          props.put("wal_autocheckpoint", String.valueOf(settings.walAutocheckpointPages()));
          props.put("journal_size_limit", String.valueOf(settings.journalSizeLimitBytes()));
          props.put("file", db.toString());
          return new BackendStats(name(), type(), stores, diskBytes(), props);
        });
  }

  private String writerSynchronous() {
    return switch (ctx.durability()) {
      case NONE -> "OFF";
      case NORMAL -> "NORMAL";
      case FULL -> "FULL";
    };
  }

  private Path walFile() {
    return db.resolveSibling(SqliteDatabase.DB_FILE + "-wal");
  }

  private long diskBytes() {
    return fileSize(db) + fileSize(walFile()) + fileSize(db.resolveSibling("cairn.db-shm"));
  }

  private static void collect(Conn c, String sql, StoreKind kind, List<StoreStats> out)
      throws SQLException {
    try (PreparedStatement ps = c.jdbc().prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(new StoreStats(new StoreId(kind, rs.getString(1)), rs.getLong(2), rs.getLong(3)));
      }
    }
  }

  @Override
  public VerifyReport verify(Progress progress) {
    ensureOpen();
    List<String> problems = new ArrayList<>();
    long checked = 0;
    Conn c = null;
    try {
      c = SqliteDatabase.open(db, settings, ctx.durability(), false);
      long pages = c.queryLong("PRAGMA page_count");
      progress.report("integrity_check", 0, pages);
      for (String p : SqliteDatabase.integrityCheck(c)) {
        problems.add(db + ": " + p);
      }
      checked += pages;
      progress.report("integrity_check", pages, pages);
      checked += verifyChecksums(c, problems, progress);
    } catch (SQLException e) {
      problems.add(db + ": " + errors.translate(e, "verify", null).getMessage());
    } catch (PersistenceException e) {
      problems.add(db + ": " + e.getMessage());
    } finally {
      if (c != null) {
        c.close();
      }
    }
    checked += verifySnapshots(problems, progress);
    return new VerifyReport(name(), checked, problems);
  }

  /**
   * Checks every row checksum and Cairn's own invariants (see SqliteDatabase, VERIFY): kv rows and
   * the version reservation, logs gap-free from their start to their catalog high-water mark,
   * snapshot index rows against their chunks, and the catalog against the data.
   */
  private long verifyChecksums(Conn c, List<String> problems, Progress progress)
      throws SQLException {
    long rows = 0;
    long maxVersion = 0;
    java.util.Set<String> kvNamespaces = new java.util.HashSet<>();
    try (Statement st = c.jdbc().createStatement();
        ResultSet rs = st.executeQuery("SELECT ns, key, value, version, expires_at, crc FROM kv")) {
      while (rs.next()) {
        String ns = rs.getString(1);
        byte[] key = rs.getBytes(2);
        long version = rs.getLong(4);
        kvNamespaces.add(ns);
        maxVersion = Math.max(maxVersion, version);
        byte[] stored = rs.getBytes(3);
        boolean intact = true;
        try {
          SqliteKeyValueStore.checked(
              ns, key, version, rs.getLong(5), stored, rs.getLong(6), sealer.enabled());
        } catch (StoreCorruptedException e) {
          intact = false;
          problems.add("kv:" + ns + " key " + shownKey(key) + ": the row fails its checksum");
        }
        if (intact) {
          try {
            sealer.openValue(ns, key, stored); // decryptability; the plaintext is dropped
          } catch (StoreCorruptedException e) {
            problems.add("kv:" + ns + ": " + e.getMessage());
          }
        }
        if (++rows % 10_000 == 0) {
          progress.report("kv checksums", rows, -1);
        }
      }
    }
    long reserved =
        c.queryLong(
            "SELECT value FROM meta WHERE name = '" + SqliteDatabase.VERSION_RESERVED + "'");
    if (maxVersion >= reserved) {
      problems.add(
          "meta: the version reservation "
              + reserved
              + " is not above the highest stored version "
              + maxVersion
              + " (the meta row is damaged or missing); new writes could reuse versions");
    }
    Map<String, Long> catalogKv = catalog(c, "kv");
    for (String ns : kvNamespaces) {
      if (!catalogKv.containsKey(ns)) {
        problems.add("kv:" + ns + ": has entries but no catalog entry (the catalog is damaged)");
      }
    }
    long records = verifyLogs(c, problems, progress);
    verifySnapshotIndex(c, problems);
    try (Statement st = c.jdbc().createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT kind, name FROM catalog WHERE kind NOT IN ('kv', 'log', 'snapshot')")) {
      while (rs.next()) {
        problems.add(
            "catalog: unknown store kind '"
                + rs.getString(1)
                + "' for store '"
                + rs.getString(2)
                + "' (the catalog is damaged)");
      }
    }
    return rows + records;
  }

  /** A key for a verify problem: redacted when encryption is on (keys stay out of messages). */
  private String shownKey(byte[] key) {
    return sealer.enabled() ? Bytes.toDisplay(key, true) : RowChecksums.key(key);
  }

  private static Map<String, Long> catalog(Conn c, String kind) throws SQLException {
    Map<String, Long> out = new java.util.TreeMap<>();
    try (PreparedStatement ps =
        c.jdbc().prepareStatement("SELECT name, hw FROM catalog WHERE kind = ?")) {
      ps.setString(1, kind);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    return out;
  }

  /** One log's extent as found in log_record: first and last offset, or -1 when it has none. */
  private static final class LogExtent {
    long first = -1;
    long last = -1;
  }

  private long verifyLogs(Conn c, List<String> problems, Progress progress) throws SQLException {
    Map<String, LogExtent> extents = new java.util.TreeMap<>();
    long records = 0;
    try (Statement st = c.jdbc().createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT log, record_offset, payload, crc, appended_at FROM log_record"
                    + " ORDER BY log, record_offset")) {
      while (rs.next()) {
        String logName = rs.getString(1);
        long offset = rs.getLong(2);
        LogExtent e = extents.computeIfAbsent(logName, n -> new LogExtent());
        if (e.first < 0) {
          e.first = offset;
        } else if (offset != e.last + 1) {
          problems.add(
              "log:"
                  + logName
                  + ": records "
                  + (e.last + 1)
                  + " to "
                  + (offset - 1)
                  + " are missing (a gap inside the log)");
        }
        e.last = offset;
        byte[] stored = rs.getBytes(3);
        if (RowChecksums.log(logName, offset, stored, rs.getLong(5)) != rs.getLong(4)) {
          problems.add("log:" + logName + " record " + offset + ": the record fails its checksum");
        } else {
          try {
            sealer.openPayload(logName, offset, stored); // decryptability, plaintext dropped
          } catch (StoreCorruptedException failed) {
            problems.add("log:" + logName + ": " + failed.getMessage());
          }
        }
        if (++records % 10_000 == 0) {
          progress.report("log checksums", records, -1);
        }
      }
    }
    Map<String, Long> starts = new java.util.TreeMap<>();
    try (Statement st = c.jdbc().createStatement();
        ResultSet rs = st.executeQuery("SELECT log, start_offset FROM log_meta")) {
      while (rs.next()) {
        starts.put(rs.getString(1), rs.getLong(2));
      }
    }
    Map<String, Long> catalogLogs = catalog(c, "log");
    SortedSet<String> names = new TreeSet<>(extents.keySet());
    names.addAll(starts.keySet());
    names.addAll(catalogLogs.keySet());
    for (String logName : names) {
      LogExtent e = extents.getOrDefault(logName, new LogExtent());
      long start = starts.getOrDefault(logName, 0L);
      Long hw = catalogLogs.get(logName);
      String at = "log:" + logName + ": ";
      if (hw == null) {
        problems.add(at + "has records or a start offset but no catalog entry (catalog damaged)");
        continue;
      }
      if (e.first >= 0 && e.first > start) {
        problems.add(
            at
                + "records "
                + start
                + " to "
                + (e.first - 1)
                + " are missing (the log starts at "
                + start
                + " but its first record is "
                + e.first
                + ")");
      } else if (e.first >= 0 && e.first < start) {
        problems.add(
            at
                + "records below its start offset "
                + start
                + " remain from "
                + e.first
                + " (the log_meta row is damaged)");
      }
      long next = Math.max(start, e.last + 1);
      if (hw > next) {
        problems.add(
            at
                + (e.first < 0 ? "all its records, " : "records ")
                + next
                + " to "
                + (hw - 1)
                + ", are missing: the catalog records that offsets up to "
                + (hw - 1)
                + " were written"
                + (e.first < 0 ? " (the log was lost)" : " (the tail of the log was lost)"));
      } else if (hw < next) {
        problems.add(
            at
                + "the catalog's next offset "
                + hw
                + " is below the log's next offset "
                + next
                + " (the catalog row is damaged)");
      }
    }
    return records;
  }

  private void verifySnapshotIndex(Conn c, List<String> problems) throws SQLException {
    Map<String, Long> counts;
    try (Statement st = c.jdbc().createStatement();
        ResultSet rs = st.executeQuery(SnapshotIndexCheck.QUERY)) {
      counts = SnapshotIndexCheck.check(rs, RowChecksums::snapshot, problems);
    }
    Map<String, Long> catalogSnapshots = catalog(c, "snapshot");
    SortedSet<String> names = new TreeSet<>(counts.keySet());
    names.addAll(catalogSnapshots.keySet());
    for (String store : names) {
      long found = counts.getOrDefault(store, 0L);
      Long listed = catalogSnapshots.get(store);
      if (listed == null) {
        problems.add(
            "snapshot:" + store + ": has snapshots but no catalog entry (catalog damaged)");
      } else if (listed != found) {
        problems.add(
            "snapshot:"
                + store
                + ": the catalog records "
                + listed
                + " snapshots but "
                + found
                + " are stored"
                + (found == 0 ? " (the snapshot set was lost)" : ""));
      }
    }
  }

  private long verifySnapshots(List<String> problems, Progress progress) {
    List<StoreId> sets;
    try {
      sets = stores().stream().filter(s -> s.kind() == StoreKind.SNAPSHOT).toList();
    } catch (PersistenceException e) {
      problems.add("snapshots: " + e.getMessage());
      return 0;
    }
    long done = 0;
    byte[] buf = new byte[64 * 1024];
    for (StoreId set : sets) {
      SnapshotStore store = snapshots(set.name());
      List<io.cairn.persistence.SnapshotInfo> infos;
      try {
        infos = store.list();
      } catch (PersistenceException e) {
        problems.add("snapshot:" + set.name() + ": " + e.getMessage());
        continue;
      }
      for (var info : infos) {
        try (InputStream in = store.load(info.version())) {
          while (in.read(buf) >= 0) {
            // reading to the end checks length and CRC-32C
          }
        } catch (java.util.NoSuchElementException gone) {
          continue; // deleted since listed
        } catch (PersistenceException | IOException e) {
          problems.add(
              "snapshot:" + set.name() + " version " + info.version() + ": " + e.getMessage());
        }
        progress.report("snapshots", ++done, -1);
      }
    }
    return done;
  }

  /** Re-encrypts under the primary key in place; see {@link SqliteReseal}. */
  @Override
  public io.cairn.persistence.ResealReport reseal(Progress progress) {
    ensureOpen();
    return SqliteReseal.run(this, java.util.Objects.requireNonNull(progress, "progress"));
  }

  @Override
  public void compact(Progress progress) {
    ensureOpen();
    progress.report("purge-expired", 0, -1);
    long purged = purgeExpired(null);
    progress.report("purge-expired", purged, purged);
    progress.report("snapshot-garbage", 0, 1);
    writer.submit(
        false,
        "compact (delete chunks of interrupted snapshot saves)",
        null,
        s -> deleteOrphanChunks(s.conn(), Set.copyOf(activeSaves)));
    progress.report("snapshot-garbage", 1, 1);
    long mode =
        writer.exclusive("compact (auto_vacuum)", s -> s.conn().queryLong("PRAGMA auto_vacuum"));
    if (mode != 2) {
      // A file created before schema v3 (or by a Cairn that set WAL mode first) has auto_vacuum =
      // NONE, which only a full VACUUM changes: rewrite it once, so that from now on
      // incremental_vacuum can give free pages back. Needs free space up to the file's size.
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
    // SQLite frees one page per step of "PRAGMA incremental_vacuum" (each step yields a row), and
    // the driver steps a statement once: one execution frees one page. So it runs once per free
    // page, in transactions of VACUUM_STEP pages that let other writers in between.
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

  @Override
  public void checkpoint(Path target, Progress progress) {
    ensureOpen();
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

  /** Deletes expired entries of {@code ns} (all namespaces if null) in bounded batches. */
  long purgeExpired(String ns) {
    ensureOpen();
    int batch = settings.sweeperBatch();
    long total = 0;
    while (true) {
      long[] removed = new long[2]; // kv rows, kv_ttl rows
      writer.submit(
          false,
          "purgeExpired",
          ns == null ? "all namespaces" : "kv:" + ns,
          s -> {
            int i = 0;
            for (String sql :
                new String[] {SqliteKeyValueStore.PURGE_KV, SqliteKeyValueStore.PURGE_TTL}) {
              PreparedStatement ps = s.conn().prepare(sql);
              ps.setLong(1, s.now());
              ps.setInt(2, batch);
              ps.setString(3, ns);
              removed[i++] = ps.executeUpdate();
            }
            return null;
          });
      total += removed[0];
      if (removed[1] < batch || closeGuard.isClosed()) {
        return total;
      }
    }
  }

  /** The check of {@code open-check = background}, or null; for tests. */
  BackgroundCheck backgroundCheck() {
    return backgroundCheck;
  }

  @Override
  public HealthCheck.Result health() {
    if (closeGuard.isClosed()) {
      return HealthCheck.Result.unhealthy(ctx.describe() + " is closed");
    }
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
    return HealthCheck.Result.healthy(
        ctx.describe() + " is open (durability " + ctx.durability().configName() + ")");
  }

  @Override
  public synchronized void close() {
    if (!closeGuard.markClosed()) {
      return;
    }
    try {
      sweeper.close();
      if (backgroundCheck != null) {
        backgroundCheck.close(); // its read transaction would hold up the checkpoint at close
      }
      readers.close(); // first, so the writer's checkpoint at close is not held up by a reader
      writer.close();
    } finally {
      metrics.removeMatching((n, m) -> n.startsWith(metricPrefix + "."));
      dataDir.close();
    }
  }

  @Override
  public String toString() {
    return ctx.describe();
  }
}
