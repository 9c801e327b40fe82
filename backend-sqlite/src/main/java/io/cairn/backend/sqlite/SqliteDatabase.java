package io.cairn.backend.sqlite;

import io.cairn.persistence.Durability;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteOpenMode;

/**
 * Owns the on-disk layout of a SQLite backend: files, schema, migrations, open-time checks and
 * quarantine.
 *
 * <pre>
 * FILES (all in the backend's data-dir; directory 0700, files 0600)
 *   cairn.lock       lock + owner line, see io.cairn.persistence.spi.DataDirectory
 *   cairn.db         the SQLite database, always in WAL journal mode
 *   cairn.db-wal     write-ahead log: commits land here first; checkpoints copy them into cairn.db
 *   cairn.db-shm     WAL index (shared memory), rebuilt by SQLite when missing
 *   cairn.db-mark    commit mark: the WAL position after the last commit (layout in WalGuard)
 *   corrupt-<yyyyMMdd'T'HHmmss'Z'>[-n]/cairn.db[-wal|-shm|-mark]   files moved aside by quarantine
 *                    (DataDirectory's one naming rule; older versions left cairn.db.corrupt-<stamp>)
 *
 * HEADER   PRAGMA application_id = 0x4341524E ('CARN') marks a Cairn database;
 *          PRAGMA user_version   = schema version: 5 since the backend runs on the shared base
 *          (the layout is EngineSchema's); the v4 to v1 layouts below are read only by the
 *          migrations, which bring a file to v4 here and then to v5 in EngineSchema.
 *
 * AUTO-VACUUM  new files are created with auto_vacuum = INCREMENTAL (set before WAL mode, which
 *        writes the header of an empty file); compact() converts older files with one VACUUM,
 *        then gives free pages back with incremental_vacuum and truncates the WAL.
 *
 * SCHEMA v4 (the last before v5; v3, v2 and v1 differences are listed after it)
 *   kv(ns TEXT, key BLOB, value BLOB, version INTEGER, expires_at INTEGER, crc INTEGER,
 *      PRIMARY KEY (ns, key)) WITHOUT ROWID
 *        one row per live-or-expired entry of every key-value namespace. BLOB keys compare with
 *        memcmp, i.e. unsigned lexicographic order. expires_at is epoch millis by the backend
 *        clock, 0 = never. crc = the ROW checksum (RowChecksums.kv: CRC-32C over ns, key,
 *        version, expires_at and the stored value) as a SIGNED 32-bit integer (so it always
 *        takes 4 bytes in the record), checked on every read before the expiry is applied, so a
 *        damaged key, namespace, version or expiry fails like a damaged value. version comes from
 *        the backend-wide sequence below, so a put is one blind INSERT OR REPLACE that reads
 *        nothing first. kv has no secondary index: with none, and with the row's size unchanged,
 *        SQLite overwrites an updated row in place, which is what makes a put cheap.
 *   kv_ttl(expires_at INTEGER, ns TEXT, key BLOB, PRIMARY KEY (expires_at, ns, key)) WITHOUT ROWID
 *        the sweeper's index: one row per (expiry, key) ever written with a TTL. Only writes
 *        with a TTL add to it; nothing else maintains it, so a row may be stale (the key was
 *        since rewritten, deleted or purged). Purging takes kv_ttl rows whose expires_at has
 *        passed, deletes the kv rows they name only if those rows are themselves expired, and
 *        deletes the kv_ttl rows.
 *   meta(name TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID
 *        'kv-version-reserved': every kv version ever committed is below it. The writer hands
 *        out versions from memory and, before using the first version at or above it, raises
 *        it (by 65536) in the same transaction as that write, or in an autocommit just before
 *        it. So versions strictly increase across restarts and crashes; after a crash up to
 *        65536 numbers are skipped.
 *   log_record(log TEXT, record_offset INTEGER, payload BLOB, crc INTEGER,
 *              appended_at INTEGER, PRIMARY KEY (log, record_offset)) WITHOUT ROWID
 *        offsets are integers in the primary key, gap-free from log_meta.start_offset upward.
 *        appended_at = epoch millis by the backend clock when the record's batch was written;
 *        -1 = not recorded (rows written before v4). crc = RowChecksums.log over log,
 *        record_offset, payload and appended_at (signed; a -1 time feeds nothing, so v3 rows keep
 *        their checksum).
 *   log_meta(log TEXT PRIMARY KEY, start_offset INTEGER) WITHOUT ROWID
 *        written only by truncateBefore: every offset below start_offset was discarded, so
 *        nextOffset = max(start_offset, max(record_offset) + 1) and offsets are never reused.
 *   snapshot(store TEXT, version INTEGER, save_id INTEGER, size INTEGER, crc INTEGER,
 *            created_at INTEGER, chunks INTEGER, row_crc INTEGER, PRIMARY KEY (store, version))
 *            WITHOUT ROWID
 *        one row per visible snapshot; crc is the CRC-32C of the whole (plaintext) data; row_crc
 *        = RowChecksums.snapshot over every other column, checked whenever the row is read.
 *   snapshot_chunk(save_id INTEGER, seq INTEGER, data BLOB, PRIMARY KEY (save_id, seq))
 *        the data, in chunks of snapshot-chunk-size; save_id is unique per save.
 *   catalog(kind TEXT, name TEXT, hw INTEGER, PRIMARY KEY (kind, name)) WITHOUT ROWID
 *        every store ever written, kept by triggers in the same statement as the write:
 *        kv_catalog (AFTER INSERT ON kv: the row, hw unused), log_catalog (AFTER INSERT ON
 *        log_record: hw = highest offset ever written + 1), snapshot_catalog_insert/_delete (hw =
 *        number of snapshots of the set). verify() compares it with the data: a log whose records
 *        stop below hw, or a snapshot set with fewer rows than hw, lost data; data without a
 *        catalog row means a damaged catalog. An emptied kv namespace is legitimate, so a lost kv
 *        namespace cannot be told from an emptied one (rows lost inside SQLite's pages are caught
 *        by integrity_check and the row checksums instead).
 *
 * SCHEMA v3 (migrated forward on open, in one transaction)
 *   log_record had no appended_at. Migration 3 -> 4 adds it with default -1 (not recorded);
 *   checksums are unchanged (see above).
 *
 * SCHEMA v2 (migrated forward on open, in one transaction)
 *   kv.crc and log_record.crc covered the value/payload only (log crc unsigned); no catalog, no
 *   snapshot.row_crc. Migration 2 -> 3 builds the catalog from the data, adds the triggers and
 *   row_crc, and rewrites every checksum as a row checksum; a row that failed its v2 checksum
 *   gets a row checksum that fails too (never laundered) and is logged. *
 * SCHEMA v1 (migrated forward on open, in one transaction)
 *   kv counted versions per key from 1 (computed by an UPSERT reading the old row), stored crc
 *   unsigned, and had a partial index kv_expiry ON kv(expires_at) WHERE expires_at > 0 instead
 *   of kv_ttl; there was no meta table. Migration 1 -> 2 fills kv_ttl from kv's rows with an
 *   expiry, drops kv_expiry, rewrites crc as signed and sets kv-version-reserved to
 *   max(version) + 1, so every later version exceeds every v1 one.
 *
 * COMMIT POINTS
 *   Every acknowledged write is one committed SQLite transaction (possibly shared with other
 *   writes by group commit). A snapshot's chunks are committed first, each in its own transaction
 *   under a fresh save_id; the snapshot becomes visible only when its snapshot row is committed
 *   (which also deletes the chunks of the version it replaces). Chunks whose save_id has no
 *   snapshot row are garbage from an interrupted save.
 *
 * RECOVERY (on open, in this order)
 *   1. lock the directory (BackendLockedException if held);
 *   2. header check of cairn.db: at least 100 bytes, magic "SQLite format 3\0", a power-of-two page
 *      size from 512 to 65536, file length a multiple of the page size and, when no WAL is
 *      present, not shorter than the header's page count; on failure apply on-corruption;
 *   2b. WAL check (WalGuard), before SQLite replays anything: committed frames after a damaged
 *      one, a WAL missing, truncated or replaced while cairn.db-mark records commits not yet in
 *      cairn.db, or cairn.db missing/empty while the mark exists; on-wal-loss = fail applies
 *      on-corruption, accept logs and opens;
 *   3. open the writer: journal_mode=WAL and synchronous are set and read back (open fails if the
 *      engine did not take them); SQLite replays the WAL, ignoring a torn tail by its checksums;
 *   4. refuse a non-Cairn database (foreign application_id, or tables without a user_version)
 *      and a schema newer than CURRENT_VERSION; run pending migrations forward in one transaction;
 *   5. open-check = quick: PRAGMA quick_check (reads every page, so open time grows with the
 *      file). SQLITE_CORRUPT/NOTADB from any step (the header check, opening the writer, reading
 *      the schema in 4) or quick_check's problems apply on-corruption: fail = throw
 *      StoreCorruptedException, nothing changed; quarantine = move cairn.db(-wal,-shm,-mark) into
 *      corrupt-<timestamp>/ and start empty. open-check = header and background (the default)
 *      skip quick_check here, so open reads a constant number of pages whatever the size: a
 *      damaged page deep in the file is then found by a read touching it (StoreCorruptedException
 *      naming the store), by verify() (integrity_check and the row checksums) and, with
 *      background, by BackgroundCheck: quick_check on a daemon thread from 1 s after open, whose finding
 *      makes health() unhealthy, emits a corruption event and is logged, naming the file and
 *      'cairn verify'. It never quarantines: the backend is already open and serving;
 *   6. delete snapshot chunks that belong to no snapshot (interrupted saves);
 *   7. start the commit mark (WalGuard): after every commit the writer records the WAL position.
 *
 * CLEAN CLOSE  readers closed, then PRAGMA wal_checkpoint(TRUNCATE) on the writer, then the mark
 *   is set clean (fsynced): a cleanly closed database has everything in cairn.db.
 * </pre>
 */
final class SqliteDatabase {
  static final String DB_FILE = "cairn.db";
  static final int APPLICATION_ID = 0x4341524E;
  static final int CURRENT_VERSION = 4;

  /** The meta row holding the version reservation (see SCHEMA v3). */
  static final String VERSION_RESERVED = "kv-version-reserved";

  private static final byte[] MAGIC = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);

  /** Migration i takes the schema from version i to i + 1. Never edit a released one. */
  private static final List<List<String>> MIGRATIONS =
      List.of(
          List.of(
              "CREATE TABLE kv (ns TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,"
                  + " version INTEGER NOT NULL, expires_at INTEGER NOT NULL, crc INTEGER NOT NULL,"
                  + " PRIMARY KEY (ns, key)) WITHOUT ROWID",
              "CREATE INDEX kv_expiry ON kv (expires_at) WHERE expires_at > 0",
              "CREATE TABLE log_record (log TEXT NOT NULL, record_offset INTEGER NOT NULL,"
                  + " payload BLOB NOT NULL, crc INTEGER NOT NULL,"
                  + " PRIMARY KEY (log, record_offset)) WITHOUT ROWID",
              "CREATE TABLE log_meta (log TEXT NOT NULL PRIMARY KEY,"
                  + " start_offset INTEGER NOT NULL) WITHOUT ROWID",
              "CREATE TABLE snapshot (store TEXT NOT NULL, version INTEGER NOT NULL,"
                  + " save_id INTEGER NOT NULL, size INTEGER NOT NULL, crc INTEGER NOT NULL,"
                  + " created_at INTEGER NOT NULL, chunks INTEGER NOT NULL,"
                  + " PRIMARY KEY (store, version)) WITHOUT ROWID",
              "CREATE TABLE snapshot_chunk (save_id INTEGER NOT NULL, seq INTEGER NOT NULL,"
                  + " data BLOB NOT NULL, PRIMARY KEY (save_id, seq))"),
          List.of(
              "CREATE TABLE kv_ttl (expires_at INTEGER NOT NULL, ns TEXT NOT NULL,"
                  + " key BLOB NOT NULL, PRIMARY KEY (expires_at, ns, key)) WITHOUT ROWID",
              "INSERT INTO kv_ttl (expires_at, ns, key)"
                  + " SELECT expires_at, ns, key FROM kv WHERE expires_at > 0",
              "DROP INDEX kv_expiry",
              "UPDATE kv SET crc = crc - 4294967296 WHERE crc >= 2147483648",
              "CREATE TABLE meta (name TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL)"
                  + " WITHOUT ROWID",
              "INSERT INTO meta (name, value) VALUES ('"
                  + VERSION_RESERVED
                  + "', (SELECT coalesce(max(version), 0) + 1 FROM kv))"),
          List.of(
              "CREATE TABLE catalog (kind TEXT NOT NULL, name TEXT NOT NULL, hw INTEGER NOT NULL,"
                  + " PRIMARY KEY (kind, name)) WITHOUT ROWID",
              "INSERT INTO catalog (kind, name, hw) SELECT 'kv', ns, 0 FROM kv GROUP BY ns",
              "INSERT INTO catalog (kind, name, hw) SELECT 'log', log, max(n) FROM"
                  + " (SELECT log, max(record_offset) + 1 AS n FROM log_record GROUP BY log"
                  + " UNION ALL SELECT log, start_offset AS n FROM log_meta) GROUP BY log",
              "INSERT INTO catalog (kind, name, hw)"
                  + " SELECT 'snapshot', store, count(*) FROM snapshot GROUP BY store",
              "ALTER TABLE snapshot ADD COLUMN row_crc INTEGER NOT NULL DEFAULT 0",
              "CREATE TRIGGER kv_catalog AFTER INSERT ON kv BEGIN"
                  + " INSERT OR IGNORE INTO catalog (kind, name, hw) VALUES ('kv', NEW.ns, 0); END",
              "CREATE TRIGGER log_catalog AFTER INSERT ON log_record BEGIN"
                  + " INSERT INTO catalog (kind, name, hw) VALUES ('log', NEW.log,"
                  + " NEW.record_offset + 1) ON CONFLICT (kind, name)"
                  + " DO UPDATE SET hw = max(hw, excluded.hw); END",
              "CREATE TRIGGER snapshot_catalog_insert AFTER INSERT ON snapshot BEGIN"
                  + " INSERT INTO catalog (kind, name, hw) VALUES ('snapshot', NEW.store,"
                  + " (SELECT count(*) FROM snapshot WHERE store = NEW.store))"
                  + " ON CONFLICT (kind, name) DO UPDATE SET hw = excluded.hw; END",
              "CREATE TRIGGER snapshot_catalog_delete AFTER DELETE ON snapshot BEGIN"
                  + " UPDATE catalog SET hw = (SELECT count(*) FROM snapshot WHERE store = OLD.store)"
                  + " WHERE kind = 'snapshot' AND name = OLD.store; END"),
          List.of("ALTER TABLE log_record ADD COLUMN appended_at INTEGER NOT NULL DEFAULT -1"));

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(SqliteDatabase.class);

  private SqliteDatabase() {}

  /** Thrown internally when the database file is damaged; carries the reason. */
  static final class Corrupt extends Exception {
    private static final long serialVersionUID = 1L;

    Corrupt(String reason, Throwable cause) {
      super(reason, cause);
    }
  }

  /**
   * Checks the header of an existing, non-empty database file. Returns quietly for an absent or
   * empty file (a new database).
   */
  static void checkHeader(Path db) throws Corrupt, IOException {
    if (!Files.exists(db)) {
      return;
    }
    long size = Files.size(db);
    if (size == 0) {
      return;
    }
    if (size < 100) {
      throw new Corrupt("it is only " + size + " bytes long (truncated; a header is 100)", null);
    }
    byte[] header = new byte[100];
    try (InputStream in = Files.newInputStream(db)) {
      in.readNBytes(header, 0, 100);
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (header[i] != MAGIC[i]) {
        throw new Corrupt("it does not start with the SQLite header (not a database)", null);
      }
    }
    ByteBuffer b = ByteBuffer.wrap(header);
    int pageSize = b.getShort(16) & 0xFFFF;
    if (pageSize == 1) {
      pageSize = 65536;
    }
    if (pageSize < 512 || Integer.bitCount(pageSize) != 1) {
      throw new Corrupt("its header declares an invalid page size " + pageSize, null);
    }
    if (size % pageSize != 0) {
      throw new Corrupt(
          "its length " + size + " is not a multiple of its page size " + pageSize + " (truncated)",
          null);
    }
    long changeCounter = b.getInt(24) & 0xFFFFFFFFL;
    long pages = b.getInt(28) & 0xFFFFFFFFL;
    long validFor = b.getInt(92) & 0xFFFFFFFFL;
    Path wal = db.resolveSibling(db.getFileName() + "-wal");
    boolean walPresent = Files.exists(wal) && Files.size(wal) > 0;
    // With a WAL present, an interrupted checkpoint may legitimately have written page 1 before
    // extending the file; SQLite then completes from the WAL. Only judge the length without one.
    if (!walPresent && changeCounter == validFor && pages > 0 && size < pages * pageSize) {
      throw new Corrupt(
          "it is "
              + size
              + " bytes but its header declares "
              + pages
              + " pages of "
              + pageSize
              + " bytes (truncated)",
          null);
    }
  }

  /**
   * Opens a connection of the reader pool: as {@link #open} with {@code writer = false}, then with
   * {@code mmap-size} of the file mapped for reading ({@code PRAGMA mmap_size}; not set when 0).
   *
   * <p><b>Why mapped, and what it costs.</b> A get through the mapping reads the page where it lies
   * in the OS page cache, where through {@code read()} every connection copies it into its own page
   * cache first. On the 2-core benchmark machine that made 4 and 8 reading threads' gets 4-19%
   * faster (benchmarks/RESULTS-sqlite.md, 2026-12-07 22:00 UTC); one thread's the same. The price:
   * SQLite reads mapped pages as memory, so a read error of the disk under them (or {@code
   * cairn.db} cut short by another program while open) raises {@code SIGBUS}, which ends the JVM
   * with a fatal-error report instead of an exception naming the file. The mapping is read-only, so
   * no stored data can be damaged through it, and nothing acknowledged is lost (the same as {@code
   * kill -9}). The writer, {@code verify} and the background check never map: writes are not faster
   * through it, and a check must report a bad disk, not end on it. {@code mmap-size = 0B} turns it
   * off.
   */
  static Conn openReader(Path db, SqliteSettings s, Durability durability) throws SQLException {
    Conn c = open(db, s, durability, false);
    long wanted = s.mmapSizeBytes();
    if (wanted == 0) {
      return c;
    }
    try {
      c.execOnce("PRAGMA mmap_size = " + wanted);
      long taken = c.queryLong("PRAGMA mmap_size");
      if (taken != wanted && MMAP_CUT_WARNED.compareAndSet(false, true)) {
        LOG.warn(
            "{}: SQLite maps {} bytes of it, not mmap-size = {} bytes (this SQLite build's limit);"
                + " reads beyond go through read(). Set mmap-size to at most {} bytes to silence"
                + " this.",
            db,
            taken,
            wanted,
            taken);
      }
      return c;
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /**
   * One warning per JVM that SQLite cut {@code mmap-size}: the limit is the build's, not a file's.
   */
  private static final java.util.concurrent.atomic.AtomicBoolean MMAP_CUT_WARNED =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Opens a connection to {@code db}. The writer sets WAL mode and the durability's synchronous
   * level and reads both back; readers are query-only.
   */
  static Conn open(Path db, SqliteSettings s, Durability durability, boolean writer)
      throws SQLException {
    SQLiteConfig cfg = new SQLiteConfig();
    cfg.setGetGeneratedKeys(false); // no extra last_insert_rowid() query per insert
    cfg.setBusyTimeout((int) Math.min(Integer.MAX_VALUE, s.busyTimeout().toMillis()));
    cfg.setOpenMode(SQLiteOpenMode.NOMUTEX); // one thread at a time per connection, by design
    cfg.setCacheSize((int) -Math.max(64, s.cacheSizeBytes() / 1024)); // negative = KiB
    Conn c = new Conn(DriverManager.getConnection("jdbc:sqlite:" + db, cfg.toProperties()));
    try {
      if (writer) {
        // Must come first on a new file: switching an empty file to WAL writes its header, after
        // which the auto_vacuum mode only changes through a VACUUM (compact() converts old files).
        // Only on an empty file: on an existing one this pragma writes the header, and open must
        // change nothing before its checks have passed.
        if (c.queryLong("PRAGMA page_count") == 0) {
          c.execOnce("PRAGMA auto_vacuum = INCREMENTAL");
        }
        String mode = c.queryString("PRAGMA journal_mode = WAL");
        if (!"wal".equalsIgnoreCase(mode)) {
          throw new SQLException(
              "SQLite kept journal_mode '"
                  + mode
                  + "' instead of 'wal'; the file system may not"
                  + " support the shared memory WAL needs");
        }
        int wanted =
            switch (durability) {
              case NONE -> 0;
              case NORMAL -> 1;
              case FULL -> 2;
            };
        c.execOnce("PRAGMA synchronous = " + wanted);
        long actual = c.queryLong("PRAGMA synchronous");
        if (actual != wanted) {
          throw new SQLException(
              "SQLite reports synchronous = "
                  + actual
                  + " after setting "
                  + wanted
                  + " for durability "
                  + durability.configName());
        }
        c.execOnce("PRAGMA wal_autocheckpoint = " + s.walAutocheckpointPages());
        c.execOnce("PRAGMA journal_size_limit = " + s.journalSizeLimitBytes());
      } else {
        c.execOnce("PRAGMA query_only = 1");
      }
      return c;
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /**
   * Brings a file of schema v1 to v3 to v4 ({@link #CURRENT_VERSION}) in one transaction, the step
   * before {@link EngineSchema}'s v4 -> v5. The caller ({@link EngineSchema#prepare}) has already
   * refused foreign and newer files and created new ones at v5, so {@code 1 <= version < 4} here.
   */
  static void migrate(Conn c, String describe, Path db) throws SQLException {
    long version = c.queryLong("PRAGMA user_version");
    c.inOneTransaction(
        () -> {
          for (long v = version; v < CURRENT_VERSION; v++) {
            for (String sql : MIGRATIONS.get((int) v)) {
              c.execOnce(sql);
            }
            if (v == 2) {
              rewriteRowChecksums(c, describe);
            }
          }
          c.execOnce("PRAGMA application_id = " + APPLICATION_ID);
          c.execOnce("PRAGMA user_version = " + CURRENT_VERSION);
        });
  }

  /**
   * Migration 2 -> 3, the part SQL cannot do: replaces every value-only checksum by a row checksum
   * ({@link RowChecksums}). A row that fails its old checksum gets a row checksum that fails too
   * (the complement of the right one), so the migration never turns damaged data into data that
   * passes; each such row is logged.
   */
  private static void rewriteRowChecksums(Conn c, String describe) throws SQLException {
    long bad = 0;
    long rows = 0;
    // kv, paged by primary key so that no statement reads the table while it is updated
    String ns = "";
    byte[] key = new byte[0];
    boolean first = true;
    try (java.sql.PreparedStatement page =
            c.jdbc()
                .prepareStatement(
                    "SELECT ns, key, value, version, expires_at, crc FROM kv"
                        + " WHERE ?1 OR (ns, key) > (?2, ?3) ORDER BY ns, key LIMIT 1000");
        java.sql.PreparedStatement update =
            c.jdbc().prepareStatement("UPDATE kv SET crc = ? WHERE ns = ? AND key = ?")) {
      while (true) {
        page.setBoolean(1, first);
        page.setString(2, ns);
        page.setBytes(3, key);
        List<Object[]> batch = new ArrayList<>();
        try (java.sql.ResultSet rs = page.executeQuery()) {
          while (rs.next()) {
            batch.add(
                new Object[] {
                  rs.getString(1),
                  rs.getBytes(2),
                  rs.getBytes(3),
                  rs.getLong(4),
                  rs.getLong(5),
                  rs.getLong(6)
                });
          }
        }
        for (Object[] r : batch) {
          String n = (String) r[0];
          byte[] k = (byte[]) r[1];
          byte[] value = (byte[]) r[2];
          int crc = RowChecksums.kv(n, k, (Long) r[3], (Long) r[4], value);
          if ((int) io.cairn.persistence.spi.Checksums.crc32c(value) != (Long) r[5]) {
            crc = ~crc;
            bad++;
            LOG.warn(
                "{}: schema migration 2 -> 3: key {} of kv:{} already failed its checksum; it"
                    + " keeps failing (run 'cairn verify')",
                describe,
                RowChecksums.key(k),
                n);
          }
          update.setInt(1, crc);
          update.setString(2, n);
          update.setBytes(3, k);
          update.executeUpdate();
        }
        rows += batch.size();
        if (batch.size() < 1000) {
          break;
        }
        Object[] last = batch.get(batch.size() - 1);
        ns = (String) last[0];
        key = (byte[]) last[1];
        first = false;
      }
    }
    String log = "";
    long offset = -1;
    try (java.sql.PreparedStatement page =
            c.jdbc()
                .prepareStatement(
                    "SELECT log, record_offset, payload, crc FROM log_record"
                        + " WHERE (log, record_offset) > (?, ?) ORDER BY log, record_offset"
                        + " LIMIT 1000");
        java.sql.PreparedStatement update =
            c.jdbc()
                .prepareStatement(
                    "UPDATE log_record SET crc = ? WHERE log = ? AND record_offset = ?")) {
      while (true) {
        page.setString(1, log);
        page.setLong(2, offset);
        List<Object[]> batch = new ArrayList<>();
        try (java.sql.ResultSet rs = page.executeQuery()) {
          while (rs.next()) {
            batch.add(new Object[] {rs.getString(1), rs.getLong(2), rs.getBytes(3), rs.getLong(4)});
          }
        }
        for (Object[] r : batch) {
          String l = (String) r[0];
          long o = (Long) r[1];
          byte[] payload = (byte[]) r[2];
          int crc = RowChecksums.log(l, o, payload);
          if (io.cairn.persistence.spi.Checksums.crc32c(payload) != (Long) r[3]) {
            crc = ~crc;
            bad++;
            LOG.warn(
                "{}: schema migration 2 -> 3: record {} of log:{} already failed its checksum;"
                    + " it keeps failing (run 'cairn verify')",
                describe,
                o,
                l);
          }
          update.setInt(1, crc);
          update.setString(2, l);
          update.setLong(3, o);
          update.executeUpdate();
        }
        rows += batch.size();
        if (batch.size() < 1000) {
          break;
        }
        log = (String) batch.get(batch.size() - 1)[0];
        offset = (Long) batch.get(batch.size() - 1)[1];
      }
    }
    List<Object[]> snaps = new ArrayList<>();
    try (java.sql.Statement st = c.jdbc().createStatement();
        java.sql.ResultSet rs =
            st.executeQuery(
                "SELECT store, version, save_id, size, crc, created_at, chunks FROM snapshot")) {
      while (rs.next()) {
        snaps.add(
            new Object[] {
              rs.getString(1),
              rs.getLong(2),
              rs.getLong(3),
              rs.getLong(4),
              rs.getLong(5),
              rs.getLong(6),
              rs.getInt(7)
            });
      }
    }
    try (java.sql.PreparedStatement update =
        c.jdbc()
            .prepareStatement("UPDATE snapshot SET row_crc = ? WHERE store = ? AND version = ?")) {
      for (Object[] r : snaps) {
        update.setInt(
            1,
            RowChecksums.snapshot(
                (String) r[0],
                (Long) r[1],
                (Long) r[2],
                (Long) r[3],
                (Long) r[4],
                (Long) r[5],
                (Integer) r[6]));
        update.setString(2, (String) r[0]);
        update.setLong(3, (Long) r[1]);
        update.executeUpdate();
      }
    }
    rows += snaps.size();
    LOG.info(
        "{}: schema migration 2 -> 3 rewrote {} row checksums ({} rows already damaged)",
        describe,
        rows,
        bad);
  }

  /** Problems PRAGMA quick_check reports; empty when the file is sound. */
  static List<String> quickCheck(Conn c) throws SQLException {
    return check(c, "PRAGMA quick_check");
  }

  /** Problems PRAGMA integrity_check reports (up to 100); empty when the file is sound. */
  static List<String> integrityCheck(Conn c) throws SQLException {
    return check(c, "PRAGMA integrity_check");
  }

  private static List<String> check(Conn c, String pragma) throws SQLException {
    List<String> problems = new ArrayList<>();
    try (java.sql.Statement st = c.jdbc().createStatement();
        java.sql.ResultSet rs = st.executeQuery(pragma)) {
      while (rs.next()) {
        String row = rs.getString(1);
        if (!"ok".equalsIgnoreCase(row)) {
          problems.add(row);
        }
      }
    }
    return problems;
  }

  /**
   * The files {@link #quarantine} moves aside: the database, its WAL and index, and the commit mark
   * ({@link WalGuard}).
   */
  static final List<String> QUARANTINED_FILES =
      List.of(DB_FILE, DB_FILE + "-wal", DB_FILE + "-shm", DB_FILE + WalGuard.MARK_SUFFIX);

  /**
   * Whether {@code name} is a file SQLite or this backend creates in the data directory (for
   * DataDirectory's foreign-file check): the database, its WAL, index and rollback journal, and the
   * quarantine names of older versions.
   */
  static boolean isEngineFile(String name) {
    return name.equals(DB_FILE)
        || name.equals(DB_FILE + "-wal")
        || name.equals(DB_FILE + "-shm")
        || name.equals(DB_FILE + "-journal")
        || name.equals(DB_FILE + WalGuard.MARK_SUFFIX)
        || name.startsWith(DB_FILE + ".corrupt-");
  }

  /**
   * Moves {@code cairn.db} and its {@code -wal}/{@code -shm} files into a new {@code
   * corrupt-<timestamp>} directory; returns the new path of the database file.
   */
  static Path quarantine(io.cairn.persistence.spi.DataDirectory dir) throws IOException {
    return dir.quarantine(QUARANTINED_FILES).resolve(DB_FILE);
  }
}
