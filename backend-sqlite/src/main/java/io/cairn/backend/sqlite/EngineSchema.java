package io.cairn.backend.sqlite;

import io.cairn.persistence.LogRecord;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.EngineRecords;
import io.cairn.persistence.spi.StorageEngine;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schema v5, the one {@link SqliteEngine} writes: every record of every store of the base ({@link
 * io.cairn.persistence.spi.EngineBackend}) in one table.
 *
 * <pre>
 * rec(kind INTEGER NOT NULL, store TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
 *     PRIMARY KEY (kind, store, key)) WITHOUT ROWID
 *   kind   the store kind as a fixed code (never StoreKind.ordinal()): 0 key-value, 1 log,
 *          2 snapshot set
 *   store  the store name, the base's own stores (names starting with '_') included
 *   key    the engine key; BLOBs compare with memcmp, i.e. the unsigned order the base needs
 *   value  the base's framed record (RecordFrame: tag, flags, body, CRC-32C trailer; SQLite has no
 *          record checksums of its own, so the base checks the trailer on every read)
 *
 * HEADER  application_id = 'CARN' as before; user_version = 5.
 * </pre>
 *
 * No secondary index: a write of a record of unchanged size overwrites its row in place.
 *
 * <h2>Migration from schema v4 (the SQLite backend before it ran on the base)</h2>
 *
 * Files of v1 to v3 are first brought to v4 by {@link SqliteDatabase#migrate} (each step one
 * transaction). Then v4 -> v5 runs in ONE transaction on the writer connection at open: create
 * {@code rec}, copy every row as the record the base would have written ({@link EngineRecords}),
 * drop the old tables (their triggers go with them), set {@code user_version = 5} last, commit. A
 * crash before the commit leaves the v4 file unchanged (SQLite's atomic commit) and the next open
 * starts again. The file needs free space for a second copy of the data until {@code compact()}
 * gives the old pages back.
 *
 * <pre>
 * kv(ns, key, value, version, expires_at, crc)   -> (0, ns, key, entry(version, expires_at, value))
 *     expired rows too (purge removes them); kv_ttl is dropped: the base builds its expiry index
 *     at the first open (its marker is absent)
 * log_record(log, offset, payload, crc, appended_at) -> (1, log, offset, record(appended_at or
 *     NOT_RECORDED for -1, payload))
 * one position per log: first = log_meta.start_offset (0 without a row), next = max(first, highest
 *     offset + 1, catalog hw): records lost from the tail, which the catalog noticed, stay a gap
 *     the base's verify names and its reads refuse
 * snapshot(store, version, save_id, size, crc, created_at, chunks, row_crc) -> (2, store,
 *     manifest(version, generation = save_id, ...)); snapshot_chunk(save_id, seq, data) -> (2,
 *     store, chunk(version, save_id, seq, data)); chunks of no snapshot row (interrupted saves) are
 *     not copied
 * meta (the backend-wide version reservation, 'kv-version-reserved' = R: every version handed
 *     out is below R) -> the base's version bound (0, '_cairn', 'next-version', bound(max(R,
 *     highest stored version + 1, 1))): every later version is above every version the old
 *     backend handed out, also those of entries deleted since, so a compare-and-set with a version
 *     read before the upgrade never matches a newer entry by accident; an entry keeps its version
 * catalog: consulted for log high-water marks; a snapshot set whose catalog count differs from its
 *     rows is logged (no record of the base can carry it)
 * </pre>
 *
 * Sealed values, payloads and chunks are copied unchanged: the SQLite backend sealed them through
 * {@link io.cairn.persistence.spi.Sealer} with the same associated data the base binds (backend
 * name, store kind and name, key / offset / snapshot version and chunk index), so they open as the
 * base's. Every row's old checksum ({@link RowChecksums}) is checked as it is copied; a row that
 * fails gets a record whose frame fails too ({@link EngineRecords#damaged}): damage is never
 * laundered by the migration, it is logged and stays visible to reads and verify.
 */
final class EngineSchema {
  private static final Logger LOG = LoggerFactory.getLogger(EngineSchema.class);

  static final int VERSION = 5;

  static final String CREATE =
      "CREATE TABLE rec (kind INTEGER NOT NULL, store TEXT NOT NULL, key BLOB NOT NULL,"
          + " value BLOB NOT NULL, PRIMARY KEY (kind, store, key)) WITHOUT ROWID";

  private EngineSchema() {}

  /** The fixed code of {@code kind} in column {@code rec.kind}. */
  static int code(StoreKind kind) {
    return switch (kind) {
      case KEY_VALUE -> 0;
      case LOG -> 1;
      case SNAPSHOT -> 2;
    };
  }

  /** The kind of code {@code code}; a code no Cairn writes is a damaged row. */
  static StoreKind kind(long code, Path db) {
    if (code == 0) {
      return StoreKind.KEY_VALUE;
    } else if (code == 1) {
      return StoreKind.LOG;
    } else if (code == 2) {
      return StoreKind.SNAPSHOT;
    }
    throw new StoreCorruptedException(
        db
            + ": table rec holds a row of store kind "
            + code
            + ", which no Cairn writes (0, 1 or 2): the row is damaged. Run 'cairn verify' and"
            + " restore from a backup.");
  }

  /** The engine's {@link SqliteOpen.Schema}: creates schema v5 in a new file, refuses others. */
  static final SqliteOpen.Schema SCHEMA =
      new SqliteOpen.Schema() {
        @Override
        public void prepare(Conn c, String describe, Path db) throws SQLException {
          EngineSchema.prepare(c, describe, db);
        }

        @Override
        public void cleanUp(Conn c) {
          // the base deletes what crashed saves and truncations leave (compact)
        }
      };

  static void prepare(Conn c, String describe, Path db) throws SQLException {
    long appId = c.queryLong("PRAGMA application_id");
    long version = c.queryLong("PRAGMA user_version");
    long tables = c.queryLong("SELECT count(*) FROM sqlite_schema WHERE type = 'table'");
    if ((appId != 0 && appId != SqliteDatabase.APPLICATION_ID) || (version == 0 && tables > 0)) {
      throw new PersistenceException(
          "Cannot open "
              + describe
              + ": "
              + db
              + " is a SQLite database but not a Cairn one (application_id "
              + appId
              + ", "
              + tables
              + " tables). Point data-dir at a directory of its own.");
    }
    if (version > VERSION) {
      throw new PersistenceException(
          "Cannot open "
              + describe
              + ": "
              + db
              + " has schema version "
              + version
              + ", written by a newer Cairn; this version understands up to "
              + VERSION
              + ". Upgrade Cairn (files are never downgraded).");
    }
    if (version == VERSION) {
      return;
    }
    if (version != 0) {
      if (version < SqliteDatabase.CURRENT_VERSION) {
        SqliteDatabase.migrate(c, describe, db); // to v4, one transaction per the old rules
      }
      migrate4to5(c, describe, db);
      return;
    }
    c.inOneTransaction(
        () -> {
          c.execOnce(CREATE);
          c.execOnce("PRAGMA application_id = " + SqliteDatabase.APPLICATION_ID);
          c.execOnce("PRAGMA user_version = " + VERSION);
        });
  }

  /** The v4 -> v5 migration (class comment); one transaction, rolled back whole on any failure. */
  static void migrate4to5(Conn c, String describe, Path db) throws SQLException {
    long started = System.nanoTime();
    EngineRecords records = new EngineRecords(describe, false);
    Counts n = new Counts();
    c.inOneTransaction(
        () -> {
          c.execOnce(CREATE);
          copyAll(c, records, n, describe);
          for (String table :
              new String[] {
                "kv",
                "kv_ttl",
                "meta",
                "log_record",
                "log_meta",
                "snapshot",
                "snapshot_chunk",
                "catalog"
              }) {
            c.execOnce("DROP TABLE " + table); // its triggers go with it
          }
          c.execOnce("PRAGMA user_version = " + VERSION);
        });
    LOG.info(
        "{}: migrated {} from schema 4 to 5 (records of the shared base) in {} ms: {} entries, {}"
            + " log records in {} logs, {} snapshots ({} chunks); {} rows already damaged",
        describe,
        db,
        (System.nanoTime() - started) / 1_000_000,
        n.entries,
        n.records,
        n.logs,
        n.snapshots,
        n.chunks,
        n.damaged);
  }

  /** Copies every row of the v4 tables into {@code rec}, inside the migration's transaction. */
  private static void copyAll(Conn c, EngineRecords records, Counts n, String describe)
      throws SQLException {
    try (PreparedStatement insert =
        c.jdbc()
            .prepareStatement("INSERT INTO rec (kind, store, key, value) VALUES (?, ?, ?, ?)")) {
      Inserter out =
          (w, damaged) -> {
            StorageEngine.Write row = damaged ? records.damaged(w) : w;
            insert.setInt(1, code(row.store().kind()));
            insert.setString(2, row.store().name());
            insert.setBytes(3, row.key());
            insert.setBytes(4, row.value());
            insert.executeUpdate();
            if (damaged) {
              n.damaged++;
              LOG.warn(
                  "{}: schema migration 4 -> 5: {} already failed its checksum; it keeps failing"
                      + " (run 'cairn verify')",
                  describe,
                  row);
            }
          };
      long highest = copyEntries(c, records, out, n);
      out.add(records.versionBound(versionBound(c, highest)), false);
      copyLogs(c, records, out, n, describe);
      copySnapshots(c, records, out, n, describe);
    }
  }

  /** Writes one migrated record, marked damaged if its old row failed its checksum. */
  @FunctionalInterface
  private interface Inserter {
    void add(StorageEngine.Write w, boolean damaged) throws SQLException;
  }

  private static final class Counts {
    long entries;
    long records;
    long logs;
    long snapshots;
    long chunks;
    long damaged;
  }

  /**
   * The version bound the base continues from: above the {@code meta} reservation (every version
   * the old backend handed out) and above every version stored ({@code highest}).
   */
  private static long versionBound(Conn c, long highest) throws SQLException {
    long reserved = 0;
    try (PreparedStatement ps =
        c.jdbc().prepareStatement("SELECT value FROM meta WHERE name = ?")) {
      ps.setString(1, SqliteDatabase.VERSION_RESERVED);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          reserved = rs.getLong(1);
        }
      }
    }
    return Math.max(Math.max(reserved, highest + 1), 1);
  }

  /** Copies every entry; returns the highest version among the intact ones (0 if none). */
  private static long copyEntries(Conn c, EngineRecords records, Inserter out, Counts n)
      throws SQLException {
    long highest = 0;
    try (Statement st = c.jdbc().createStatement();
        ResultSet rs = st.executeQuery("SELECT ns, key, value, version, expires_at, crc FROM kv")) {
      while (rs.next()) {
        String ns = rs.getString(1);
        byte[] key = orEmpty(rs.getBytes(2));
        byte[] value = orEmpty(rs.getBytes(3));
        long version = rs.getLong(4);
        long expires = rs.getLong(5);
        boolean intact =
            RowChecksums.kv(ns, key, version, expires, value) == rs.getLong(6)
                && version >= 1
                && expires >= 0;
        // a damaged row's fields may be out of range: clamp them, its frame fails anyway
        out.add(records.entry(ns, key, Math.max(1, version), Math.max(0, expires), value), !intact);
        n.entries++;
        if (intact && version < Long.MAX_VALUE) {
          highest = Math.max(highest, version);
        }
      }
    }
    return highest;
  }

  private static void copyLogs(
      Conn c, EngineRecords records, Inserter out, Counts n, String describe) throws SQLException {
    Map<String, Long> next = new TreeMap<>(); // highest offset + 1 per log
    try (Statement st = c.jdbc().createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT log, record_offset, payload, crc, appended_at FROM log_record")) {
      while (rs.next()) {
        String log = rs.getString(1);
        long offset = rs.getLong(2);
        if (offset < 0) {
          // no Cairn wrote it and no position can cover it: a damaged row with no place to go
          n.damaged++;
          LOG.warn(
              "{}: schema migration 4 -> 5: log:{} has a row at the negative offset {}, which no"
                  + " Cairn writes (a damaged row); it is not copied",
              describe,
              log,
              offset);
          continue;
        }
        byte[] payload = orEmpty(rs.getBytes(3));
        long appended = rs.getLong(5);
        boolean intact =
            RowChecksums.log(log, offset, payload, appended) == rs.getLong(4)
                && appended >= LogRecord.NOT_RECORDED;
        out.add(
            records.logRecord(log, offset, Math.max(LogRecord.NOT_RECORDED, appended), payload),
            !intact);
        next.merge(log, offset + 1, Math::max);
        n.records++;
      }
    }
    Map<String, Long> first = new HashMap<>();
    try (Statement st = c.jdbc().createStatement();
        ResultSet rs = st.executeQuery("SELECT log, start_offset FROM log_meta")) {
      while (rs.next()) {
        first.put(rs.getString(1), Math.max(0, rs.getLong(2)));
        next.putIfAbsent(rs.getString(1), 0L);
      }
    }
    try (Statement st = c.jdbc().createStatement();
        ResultSet rs = st.executeQuery("SELECT name, hw FROM catalog WHERE kind = 'log'")) {
      while (rs.next()) {
        next.merge(rs.getString(1), Math.max(0, rs.getLong(2)), Math::max);
      }
    }
    for (Map.Entry<String, Long> e : next.entrySet()) {
      long f = first.getOrDefault(e.getKey(), 0L);
      out.add(records.logPosition(e.getKey(), f, Math.max(f, e.getValue())), false);
      n.logs++;
    }
  }

  private static void copySnapshots(
      Conn c, EngineRecords records, Inserter out, Counts n, String describe) throws SQLException {
    Map<String, Long> counts = new TreeMap<>();
    try (Statement st = c.jdbc().createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT store, version, save_id, size, crc, created_at, chunks, row_crc"
                    + " FROM snapshot");
        PreparedStatement chunks =
            c.jdbc()
                .prepareStatement(
                    "SELECT seq, data FROM snapshot_chunk WHERE save_id = ? ORDER BY seq")) {
      while (rs.next()) {
        String set = rs.getString(1);
        long version = rs.getLong(2);
        long saveId = rs.getLong(3);
        long size = rs.getLong(4);
        long crc = rs.getLong(5);
        long created = rs.getLong(6);
        int count = rs.getInt(7);
        boolean intact =
            RowChecksums.snapshot(set, version, saveId, size, crc, created, count) == rs.getLong(8)
                && size >= 0
                && count >= 0;
        out.add(
            records.snapshotManifest(
                set, version, saveId, Math.max(0, size), crc, created, Math.max(0, count)),
            !intact);
        counts.merge(set, 1L, Long::sum);
        n.snapshots++;
        chunks.setLong(1, saveId);
        try (ResultSet cr = chunks.executeQuery()) {
          while (cr.next()) {
            int seq = cr.getInt(1);
            // a negative seq was never written by Cairn: the chunk cannot be addressed, the
            // snapshot's load then finds it missing and fails its check
            if (seq >= 0) {
              out.add(
                  records.snapshotChunk(set, version, saveId, seq, orEmpty(cr.getBytes(2))), false);
              n.chunks++;
            }
          }
        }
      }
    }
    try (Statement st = c.jdbc().createStatement();
        ResultSet rs = st.executeQuery("SELECT name, hw FROM catalog WHERE kind = 'snapshot'")) {
      while (rs.next()) {
        long found = counts.getOrDefault(rs.getString(1), 0L);
        if (found != rs.getLong(2)) {
          LOG.warn(
              "{}: schema migration 4 -> 5: snapshot set '{}' has {} snapshots but the catalog"
                  + " recorded {}{}; the migrated set keeps the {} found (run 'cairn verify' on"
                  + " a backup of the old files to see what was lost)",
              describe,
              rs.getString(1),
              found,
              rs.getLong(2),
              found == 0 ? " (the set was lost)" : "",
              found);
        }
      }
    }
  }

  /** The driver returns a zero-length BLOB as null; the columns are NOT NULL. */
  private static byte[] orEmpty(byte[] b) {
    return b == null ? new byte[0] : b;
  }
}
