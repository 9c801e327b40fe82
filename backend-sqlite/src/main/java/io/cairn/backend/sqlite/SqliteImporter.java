package io.cairn.backend.sqlite;

import io.cairn.persistence.Entry;
import io.cairn.persistence.Importer;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.ImportChecks;
import io.cairn.persistence.spi.Sealer;
import java.io.InputStream;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The {@link Importer} of a {@link SqliteBackend}: writes rows exactly as the store API writes them
 * (layout in {@link SqliteDatabase}), with the source's versions, expiry instants, offsets, append
 * times and snapshot creation times.
 *
 * <p><b>Same rows as the store API.</b> Values, payloads and snapshot chunks are sealed by the
 * backend's {@link Sealer} with the same associated data as the normal path (namespace and key; log
 * and offset; set, version and chunk number), so reads, {@code verify} and {@code reseal} accept
 * them; the row statements and row checksums are the stores' own ({@link
 * SqliteKeyValueStore#putVersionedIn}, {@link SqliteLogStore#insert}, {@link
 * SqliteSnapshotStore#save(long, InputStream, OptionalLong)}); the catalog triggers record the
 * stores as for any write.
 *
 * <p><b>Atomicity and durability.</b> {@link Session#putEntries} and {@link Session#appendRecords}
 * are one SQLite transaction each, holding the writer ({@link Writer#ownTransaction}); a snapshot
 * writes its chunks like any save and becomes visible in one transaction that publishes its row
 * (chunks of an interrupted import are deleted at the next open, as for any save). Each of those
 * transactions commits at {@code PRAGMA synchronous = FULL} (unless the backend runs at durability
 * none), so every call is durable when it returns and {@link Session#finish()} has nothing left to
 * flush.
 *
 * <p><b>Empty stores only.</b> The first call of a session on a store checks, in the transaction
 * that writes, that the store holds nothing: no kv row (expired ones included); no log record and
 * no start offset (a log emptied by truncation still used its offsets); no snapshot row.
 *
 * <p><b>Versions.</b> The transaction that imports entries raises the backend-wide version
 * reservation ({@code meta}) and the writer's sequence above the highest imported version ({@link
 * Writer.Session#raiseVersionsAbove}), so a later put gets a greater version than every imported
 * one, also after a restart.
 *
 * <p><b>Offsets.</b> The first record imported into a log sets its start offset ({@code log_meta},
 * as a truncation would: the offsets below count as truncated and {@code verify} expects no record
 * there); each later call must continue at the next offset; the writer's cached next offset is set,
 * so appends continue after the imported records.
 *
 * <p>A session is used by one thread at a time; sessions of different threads may run at once.
 */
final class SqliteImporter implements Importer {
  private static final String KV_ANY = "SELECT 1 FROM kv WHERE ns = ? LIMIT 1";
  private static final String SNAPSHOT_ANY = "SELECT 1 FROM snapshot WHERE store = ? LIMIT 1";

  private final SqliteBackend backend;

  SqliteImporter(SqliteBackend backend) {
    this.backend = backend;
  }

  @Override
  public Session begin() {
    backend.ensureOpen();
    return new SqliteSession();
  }

  /** A kv row ready to write: key copied, value sealed. */
  private record Row(byte[] key, byte[] stored, long version, long expires) {}

  private final class SqliteSession implements Session {
    // stores this session checked empty; for logs the next offset the import expects
    private final Map<StoreId, Long> started = new HashMap<>();
    private boolean closed;

    @Override
    public void putEntries(String namespace, List<Entry> entries) {
      open();
      long top = ImportChecks.entries(backend.describe(), namespace, entries);
      Sealer sealer = backend.sealer();
      List<Row> rows = new ArrayList<>(entries.size());
      for (Entry e : entries) {
        rows.add(
            new Row(
                e.key().clone(),
                sealer.sealValue(namespace, e.key(), e.value()),
                e.version(),
                e.expiresAtMillis()));
      }
      StoreId id = new StoreId(StoreKind.KEY_VALUE, namespace);
      backend.importWrite(
          "import",
          "kv:" + namespace + " (" + rows.size() + " entries)",
          s -> {
            requireEmpty(s.conn(), id);
            for (Row r : rows) {
              SqliteKeyValueStore.putVersionedIn(
                  s, namespace, r.key(), r.stored(), r.version(), r.expires());
            }
            if (top > 0) {
              s.raiseVersionsAbove(top);
            }
            return null;
          });
      started.putIfAbsent(id, -1L);
    }

    @Override
    public void appendRecords(String log, List<LogRecord> records) {
      open();
      StoreId id = new StoreId(StoreKind.LOG, log);
      Long expected = started.get(id);
      ImportChecks.records(backend.describe(), log, records, expected == null ? -1 : expected);
      if (records.isEmpty()) {
        return;
      }
      long first = records.get(0).offset();
      Sealer sealer = backend.sealer();
      List<byte[]> stored = new ArrayList<>(records.size());
      for (LogRecord r : records) {
        stored.add(sealer.sealPayload(log, r.offset(), r.payload()));
      }
      long end = first + records.size();
      backend.importWrite(
          "import",
          "log:" + log + " (offsets " + first + " to " + (end - 1) + ")",
          s -> {
            if (expected == null) {
              requireEmpty(s.conn(), id);
              if (first > 0) {
                PreparedStatement start = s.conn().prepare(SqliteLogStore.RAISE_START);
                start.setString(1, log);
                start.setLong(2, first);
                start.executeUpdate();
              }
            }
            for (int i = 0; i < stored.size(); i++) {
              LogRecord r = records.get(i);
              SqliteLogStore.insert(s, log, r.offset(), stored.get(i), r.appendedAtMillis());
            }
            s.cacheNextOffset(log, end);
            return null;
          });
      started.put(id, end);
    }

    @Override
    public void startLog(String log, long offset) {
      open();
      StoreId id = new StoreId(StoreKind.LOG, log);
      ImportChecks.logStart(backend.describe(), log, offset, started.containsKey(id));
      backend.importWrite(
          "import",
          "log:" + log + " (started at offset " + offset + ")",
          s -> {
            requireEmpty(s.conn(), id);
            PreparedStatement start = s.conn().prepare(SqliteLogStore.RAISE_START);
            start.setString(1, log);
            start.setLong(2, offset);
            start.executeUpdate();
            s.cacheNextOffset(log, offset);
            return null;
          });
      started.put(id, offset);
    }

    @Override
    public SnapshotInfo saveSnapshot(
        String set, long version, long createdAtMillis, InputStream data) {
      open();
      ImportChecks.snapshot(backend.describe(), set, version, createdAtMillis, data);
      StoreId id = new StoreId(StoreKind.SNAPSHOT, set);
      SqliteSnapshotStore store = (SqliteSnapshotStore) backend.snapshots(set);
      if (!started.containsKey(id)) {
        backend
            .readers()
            .read(
                "import",
                "snapshot:" + set,
                c -> {
                  requireEmpty(c, id);
                  return null;
                });
        started.put(id, -1L);
      }
      return store.save(version, data, OptionalLong.of(createdAtMillis));
    }

    @Override
    public void finish() {
      open();
      closed = true; // every call committed at synchronous = FULL: nothing left to make durable
    }

    @Override
    public void close() {
      closed = true;
    }

    private void open() {
      if (closed) {
        throw new IllegalStateException(
            "This import session of " + backend.describe() + " has ended");
      }
      backend.ensureOpen();
    }

    /** Throws unless store {@code id} holds nothing (see the class comment), once per session. */
    private void requireEmpty(Conn c, StoreId id) throws SQLException {
      if (started.containsKey(id)) {
        return;
      }
      boolean empty =
          switch (id.kind()) {
            case KEY_VALUE -> none(c, KV_ANY, id.name());
            case LOG -> SqliteLogStore.nextIn(c, id.name()) == 0;
            case SNAPSHOT -> none(c, SNAPSHOT_ANY, id.name());
          };
      if (!empty) {
        throw new IllegalStateException(
            "Cannot import into "
                + id.kind().shortName()
                + ":"
                + id.name()
                + " of "
                + backend.describe()
                + ": the store is not empty. Import only into empty stores (a fresh backend);"
                + " nothing was written to it.");
      }
    }

    private boolean none(Conn c, String sql, String name) throws SQLException {
      PreparedStatement ps = c.prepare(sql);
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        return !rs.next();
      }
    }
  }
}
