package io.cairn.backend.postgres;

import io.cairn.persistence.Entry;
import io.cairn.persistence.Importer;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.ImportChecks;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@link Importer} of a PostgreSQL backend ({@code extension(Importer.class)}).
 *
 * <h2>Rules</h2>
 *
 * <ul>
 *   <li><b>The rows of the normal write path.</b> An imported item is stored exactly as the store
 *       would have stored it, through the stores' own statements and helpers: kv rows through
 *       {@link PostgresKeyValueStore#INSERT} and its binder (row checksum over namespace, key,
 *       version, expiry and value; the value sealed by {@code sealValue(ns, key, ...)}); log rows
 *       through {@link PostgresLogStore#insertIn} (sealed bound to their offset, checksum over log,
 *       offset, payload and append time, {@code -1} kept as "not recorded"), with the {@code
 *       log_head} row set to the first imported offset and one past the last; snapshots through
 *       {@link PostgresSnapshotStore#saveIn} (chunk rows, index row, checksums, sealing) with the
 *       imported creation time. The queue table and the key check table are not touched. So reads,
 *       {@code verify} and {@code reseal} treat imported rows like any others, in every process.
 *   <li><b>One transaction per call.</b> Each call runs in one transaction on one pooled
 *       connection, with {@code SET LOCAL synchronous_commit TO on} whatever the backend's
 *       durability: the commit returns after its WAL is flushed, so every call is durable as at
 *       {@code full} when it returns and {@link Session#finish()} has nothing left to flush
 *       (PostgreSQL has no weaker logged mode, so {@code none} gets the same as {@code normal}).
 *       Rows go as JDBC batches (one round trip per call and table, not per row).
 *   <li><b>Only into empty stores.</b> The first call of a session on a store checks, inside its
 *       transaction: kv, no row of the namespace (expired rows included); log, no {@code log_head}
 *       row that has handed out an offset and no {@code log_record} row; snapshot set, no index
 *       row. Otherwise it throws {@link IllegalStateException} naming the backend (its URL and
 *       schema) and the store, and the transaction writes nothing. A key that is already present
 *       when a later call inserts it (imported twice, or written by another writer meanwhile) and a
 *       log head moved by another appender fail the call the same way, rolled back.
 *   <li><b>Versions.</b> Imported versions are written as given; {@link PostgresVersions#imported}
 *       then raises the {@code kv_version} sequence above the highest, in the same call, so a
 *       store-API write afterwards, in any process, gets a greater version. Versions above {@link
 *       #MAX_VERSION} are refused (the sequence needs room above).
 *   <li><b>Arguments</b> are checked like the store API's before a connection is taken; a bad one
 *       throws {@link IllegalArgumentException} naming the backend, the store and the item.
 *   <li><b>Errors</b> of the server are translated by {@link PostgresErrors} as for every write: an
 *       unreachable server is a retriable {@link PostgresUnavailableException} saying nothing of
 *       this call was written (or, if the connection broke during the commit, that its outcome is
 *       unknown).
 * </ul>
 *
 * A session is used by one thread at a time; {@link #begin()} from any thread.
 */
final class PostgresImporter implements Importer {
  /** The highest version an import may carry: later writes need a sequence block above it. */
  static final long MAX_VERSION =
      Long.MAX_VALUE - PostgresVersions.IMPORT_VERSION_MARGIN - 2L * PostgresSchema.VERSION_BLOCK;

  private static final String NEW_ENTRY =
      PostgresKeyValueStore.INSERT + " ON CONFLICT (ns, key) DO NOTHING";

  /** The first call on a log: an absent head row, or one that never handed out an offset. */
  private static final String START_LOG =
      "INSERT INTO log_head (log, first_offset, next_offset) VALUES (?, ?, ?) ON CONFLICT (log)"
          + " DO UPDATE SET first_offset = EXCLUDED.first_offset,"
          + " next_offset = EXCLUDED.next_offset WHERE log_head.next_offset = 0";

  private static final String CONTINUE_LOG =
      "UPDATE log_head SET next_offset = ? WHERE log = ? AND next_offset = ?";

  private final PostgresBackend b;

  PostgresImporter(PostgresBackend backend) {
    this.b = backend;
  }

  @Override
  public Session begin() {
    return new PgSession();
  }

  private final class PgSession implements Session {
    private final Set<StoreId> started = new HashSet<>();
    private final Map<String, Long> nextOffsets = new HashMap<>(); // logs started: next offset
    private boolean closed;

    @Override
    public void putEntries(String namespace, List<Entry> entries) {
      open();
      long maxVersion = ImportChecks.entries(b, namespace, entries);
      String where = "kv:" + namespace;
      if (maxVersion > MAX_VERSION) {
        throw refused(
            where,
            "version "
                + maxVersion
                + " is above "
                + MAX_VERSION
                + ", the highest this backend imports",
            null);
      }
      StoreId id = new StoreId(StoreKind.KEY_VALUE, namespace);
      if (entries.isEmpty() && started.contains(id)) {
        return; // an empty first call still checks the store, as the reference importer does
      }
      // sealed before the transaction: no crypto while the connection is held
      List<byte[][]> rows = new ArrayList<>(entries.size());
      for (Entry e : entries) {
        byte[] k = e.key().clone();
        rows.add(new byte[][] {k, b.sealer().sealValue(namespace, k, e.value())});
      }
      long highest = maxVersion;
      write(
          "putEntries",
          where + " (" + entries.size() + " entries)",
          c -> {
            if (!started.contains(id)) {
              requireEmpty(c, id, "SELECT 1 FROM kv WHERE ns = ? LIMIT 1");
            }
            if (rows.isEmpty()) {
              return null;
            }
            try (PreparedStatement ps = c.prepareStatement(NEW_ENTRY)) {
              for (int i = 0; i < rows.size(); i++) {
                Entry e = entries.get(i);
                byte[][] row = rows.get(i);
                PostgresKeyValueStore.bindUpsert(
                    ps, namespace, row[0], row[1], e.version(), e.expiresAtMillis());
                ps.addBatch();
              }
              int[] counts = ps.executeBatch();
              for (int i = 0; i < counts.length; i++) {
                if (counts[i] == 0) {
                  throw new IllegalStateException(
                      "Cannot import into "
                          + where
                          + " of "
                          + b
                          + ": key "
                          + key(rows.get(i)[0])
                          + " is already in the store (imported twice, or written by another"
                          + " writer during the import); nothing of this call was written.");
                }
              }
            }
            b.versionsImported(c, highest);
            return null;
          });
      started.add(id);
    }

    @Override
    public void appendRecords(String log, List<LogRecord> records) {
      open();
      Long expected = nextOffsets.get(log);
      ImportChecks.records(b, log, records, expected == null ? -1 : expected);
      String where = "log:" + log;
      if (records.isEmpty()) {
        return;
      }
      long first = records.get(0).offset();
      long next = first + records.size();
      StoreId id = new StoreId(StoreKind.LOG, log);
      write(
          "appendRecords",
          where + " (offsets " + first + " to " + (next - 1) + ")",
          c -> {
            if (expected == null) {
              requireEmptyLog(c, id);
              try (PreparedStatement ps = c.prepareStatement(START_LOG)) {
                ps.setString(1, log);
                ps.setLong(2, first);
                ps.setLong(3, next);
                if (ps.executeUpdate() != 1) {
                  throw notEmpty(id); // an appender took an offset since the check
                }
              }
            } else {
              try (PreparedStatement ps = c.prepareStatement(CONTINUE_LOG)) {
                ps.setLong(1, next);
                ps.setString(2, log);
                ps.setLong(3, first);
                if (ps.executeUpdate() != 1) {
                  throw new IllegalStateException(
                      "Cannot import into "
                          + where
                          + " of "
                          + b
                          + ": its next offset is no longer "
                          + first
                          + " (another writer appended to it during the import); nothing of this"
                          + " call was written.");
                }
              }
            }
            PostgresLogStore.insertIn(
                b,
                c,
                log,
                first,
                records.size(),
                i -> records.get(i).payload(),
                i -> records.get(i).appendedAtMillis());
            return null;
          });
      nextOffsets.put(log, next);
      started.add(id);
    }

    @Override
    public void startLog(String log, long offset) {
      open();
      StoreId id = new StoreId(StoreKind.LOG, log);
      ImportChecks.logStart(b, log, offset, nextOffsets.containsKey(log));
      write(
          "startLog",
          "log:" + log + " (started at offset " + offset + ")",
          c -> {
            requireEmptyLog(c, id);
            try (PreparedStatement ps = c.prepareStatement(START_LOG)) {
              ps.setString(1, log);
              ps.setLong(2, offset);
              ps.setLong(3, offset);
              if (ps.executeUpdate() != 1) {
                throw notEmpty(id); // an appender took an offset since the check
              }
            }
            return null;
          });
      nextOffsets.put(log, offset);
      started.add(id);
    }

    @Override
    public SnapshotInfo saveSnapshot(
        String set, long version, long createdAtMillis, InputStream data) {
      open();
      ImportChecks.snapshot(b, set, version, createdAtMillis, data);
      String where = "snapshot:" + set;
      StoreId id = new StoreId(StoreKind.SNAPSHOT, set);
      PostgresSnapshotStore store = (PostgresSnapshotStore) b.snapshots(set);
      SnapshotInfo info =
          write(
              "saveSnapshot",
              where + " version " + version,
              c -> {
                if (!started.contains(id)) {
                  requireEmpty(c, id, "SELECT 1 FROM snapshot WHERE store = ? LIMIT 1");
                }
                return store.saveIn(c, version, data, () -> createdAtMillis);
              });
      started.add(id);
      return info;
    }

    @Override
    public void finish() {
      open();
      closed = true; // every call committed with synchronous_commit = on: nothing left to flush
    }

    @Override
    public void close() {
      closed = true;
    }

    private void open() {
      if (closed) {
        throw new IllegalStateException("This import session of " + b + " has ended");
      }
    }
  }

  /** Runs one call's {@code work} in one transaction whose commit waits for the WAL flush. */
  private <T> T write(String op, String where, PostgresPool.SqlWork<T> work) {
    return b.transaction(
        "import " + op,
        where,
        c -> {
          try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL synchronous_commit TO on");
          }
          return work.run(c);
        });
  }

  /** Throws unless {@code query} (one parameter: the store's name) finds no row. */
  private void requireEmpty(Connection c, StoreId id, String query) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(query)) {
      ps.setString(1, id.name());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          throw notEmpty(id);
        }
      }
    }
  }

  /** A log is empty if it never handed out an offset and holds no record row. */
  private void requireEmptyLog(Connection c, StoreId id) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("SELECT 1 FROM log_head WHERE log = ? AND next_offset <> 0")) {
      ps.setString(1, id.name());
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          throw notEmpty(id);
        }
      }
    }
    requireEmpty(c, id, "SELECT 1 FROM log_record WHERE log = ? LIMIT 1");
  }

  private IllegalStateException notEmpty(StoreId id) {
    return new IllegalStateException(
        "Cannot import into "
            + id.kind().shortName()
            + ":"
            + id.name()
            + " of "
            + b
            + ": the store is not empty. Import only into empty stores (a fresh schema); nothing"
            + " was written to it.");
  }

  private IllegalArgumentException refused(String where, String why, Throwable cause) {
    return ImportChecks.refused(where, b, why, cause);
  }

  private String key(byte[] key) {
    return Bytes.toDisplay(key, b.sealer().enabled());
  }
}
