package io.cairn.backend.sqlite;

import io.cairn.persistence.Progress;
import io.cairn.persistence.ResealReport;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.ResealPages;
import io.cairn.persistence.spi.Sealer;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link io.cairn.persistence.StorageBackend#reseal} for SQLite: rewrites, in place, the {@code
 * kv.value}, {@code log_record.payload} and {@code snapshot_chunk.data} that are not sealed with
 * the primary key, with a new row checksum ({@link RowChecksums}) where the row has one. No other
 * column changes: versions, {@code expires_at} (expired rows are re-sealed, not purged), offsets,
 * {@code kv_ttl}, {@code log_meta}, the {@code snapshot} rows and the catalog stay as they are.
 *
 * <p>Each page of at most {@value #PAGE} rows is read and rewritten by ONE operation on the writer
 * connection ({@link Writer#submit}), so it is atomic, serialised with every other write and
 * transaction, and judges each row as it is at that moment. Before re-sealing, the row's checksum
 * is checked, so a damaged version, expiry or key is reported ({@code StoreCorruptedException})
 * rather than sealed under a fresh checksum. Rows under the primary key are skipped: a run stopped
 * at any point (also {@code kill -9}: a page is one SQLite transaction) is resumed by running it
 * again; no cursor is kept.
 *
 * <p>Snapshot chunks are re-sealed per visible snapshot (the {@code snapshot} row gives the set and
 * version the chunk is bound to). Chunks of saves that crashed belong to no row, are never read and
 * are deleted by {@code compact()}; they are not re-sealed (their set and version are unknown).
 */
final class SqliteReseal {
  private static final int PAGE = 256;

  private static final String KV_PAGE =
      "SELECT ns, key, value, version, expires_at, crc FROM kv WHERE (ns, key) > (?, ?)"
          + " ORDER BY ns, key LIMIT "
          + PAGE;
  private static final String KV_UPDATE =
      "UPDATE kv SET value = ?, crc = ? WHERE ns = ? AND key = ?";
  private static final String LOG_PAGE =
      "SELECT log, record_offset, payload, crc, appended_at FROM log_record"
          + " WHERE (log, record_offset) > (?, ?)"
          + " ORDER BY log, record_offset LIMIT "
          + PAGE;
  private static final String LOG_UPDATE =
      "UPDATE log_record SET payload = ?, crc = ? WHERE log = ? AND record_offset = ?";
  private static final String SNAPSHOTS = "SELECT store, version, save_id FROM snapshot";
  private static final String CHUNK_PAGE =
      "SELECT seq, data FROM snapshot_chunk WHERE save_id = ? AND seq > ? ORDER BY seq LIMIT "
          + PAGE;
  private static final String CHUNK_UPDATE =
      "UPDATE snapshot_chunk SET data = ? WHERE save_id = ? AND seq = ?";

  private final SqliteBackend backend;
  private final Sealer sealer;
  private final ResealPages pages;

  private SqliteReseal(SqliteBackend backend, Progress progress) {
    this.backend = backend;
    this.sealer = backend.sealer();
    this.pages = new ResealPages(backend.name(), PAGE, progress);
  }

  static ResealReport run(SqliteBackend backend, Progress progress) {
    SqliteReseal r = new SqliteReseal(backend, progress);
    if (r.sealer.enabled()) {
      r.keyValues();
      r.logs();
      r.snapshots();
    }
    return r.pages.report();
  }

  // Each page is one write op; the writer may run an op again (after a rollback of its group), so
  // an op builds a fresh ResealPages.Page from the cursor it is given and changes nothing outside.

  private void keyValues() {
    pages.run(
        new Object[] {"", new byte[0]},
        from ->
            backend
                .writer()
                .submit(
                    false,
                    "reseal",
                    "key-value namespaces",
                    s -> {
                      PreparedStatement ps = s.conn().prepare(KV_PAGE);
                      ps.setString(1, (String) from[0]);
                      ps.setBytes(2, (byte[]) from[1]);
                      List<Object[]> updates = new ArrayList<>();
                      ResealPages.Page out = new ResealPages.Page(from);
                      try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                          String ns = rs.getString(1);
                          byte[] key = rs.getBytes(2);
                          byte[] stored = rs.getBytes(3);
                          long version = rs.getLong(4);
                          long expires = rs.getLong(5);
                          SqliteKeyValueStore.checked(
                              ns, key, version, expires, stored, rs.getLong(6), sealer.enabled());
                          boolean reseal = sealer.needsReseal(stored);
                          if (reseal) {
                            byte[] fresh = sealer.resealValue(ns, key, stored);
                            int crc = RowChecksums.kv(ns, key, version, expires, fresh);
                            updates.add(new Object[] {fresh, crc, ns, key});
                          }
                          out.add(new StoreId(StoreKind.KEY_VALUE, ns), reseal, ns, key);
                        }
                      }
                      update(s, KV_UPDATE, updates);
                      return out;
                    }));
  }

  private void logs() {
    pages.run(
        new Object[] {"", -1L},
        from ->
            backend
                .writer()
                .submit(
                    false,
                    "reseal",
                    "logs",
                    s -> {
                      PreparedStatement ps = s.conn().prepare(LOG_PAGE);
                      ps.setString(1, (String) from[0]);
                      ps.setLong(2, (Long) from[1]);
                      List<Object[]> updates = new ArrayList<>();
                      ResealPages.Page out = new ResealPages.Page(from);
                      try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                          String log = rs.getString(1);
                          long offset = rs.getLong(2);
                          byte[] stored = rs.getBytes(3);
                          long appendedAt = rs.getLong(5);
                          int actual = RowChecksums.log(log, offset, stored, appendedAt);
                          if (actual != rs.getLong(4)) {
                            throw new StoreCorruptedException(
                                String.format(
                                    "Record %d of log '%s' in %s fails its checksum (computed"
                                        + " CRC-32C %08x over log name, offset and payload); it was"
                                        + " not re-encrypted. Run 'cairn verify' and restore from a"
                                        + " backup.",
                                    offset, log, backend.describe(), actual));
                          }
                          boolean reseal = sealer.needsReseal(stored);
                          if (reseal) {
                            byte[] fresh = sealer.resealPayload(log, offset, stored);
                            int crc = RowChecksums.log(log, offset, fresh, appendedAt);
                            updates.add(new Object[] {fresh, crc, log, offset});
                          }
                          out.add(new StoreId(StoreKind.LOG, log), reseal, log, offset);
                        }
                      }
                      update(s, LOG_UPDATE, updates);
                      return out;
                    }));
  }

  private void snapshots() {
    List<Object[]> snapshots =
        backend
            .readers()
            .read(
                "reseal",
                "snapshot sets",
                c -> {
                  List<Object[]> out = new ArrayList<>();
                  try (ResultSet rs = c.prepare(SNAPSHOTS).executeQuery()) {
                    while (rs.next()) {
                      out.add(new Object[] {rs.getString(1), rs.getLong(2), rs.getLong(3)});
                    }
                  }
                  return out;
                });
    for (Object[] snap : snapshots) {
      String set = (String) snap[0];
      long version = (Long) snap[1];
      long saveId = (Long) snap[2];
      StoreId id = new StoreId(StoreKind.SNAPSHOT, set);
      pages.run(
          new Object[] {-1L},
          from ->
              backend
                  .writer()
                  .submit(
                      false,
                      "reseal",
                      "snapshot " + version + " of snapshot set '" + set + "'",
                      s -> {
                        // a snapshot replaced or deleted meanwhile has no chunks left: nothing to
                        // do
                        PreparedStatement ps = s.conn().prepare(CHUNK_PAGE);
                        ps.setLong(1, saveId);
                        ps.setLong(2, (Long) from[0]);
                        List<Object[]> updates = new ArrayList<>();
                        ResealPages.Page out = new ResealPages.Page(from);
                        try (ResultSet rs = ps.executeQuery()) {
                          while (rs.next()) {
                            long seq = rs.getLong(1);
                            byte[] stored = rs.getBytes(2);
                            boolean reseal = sealer.needsReseal(stored);
                            if (reseal) {
                              byte[] fresh = sealer.resealChunk(set, version, (int) seq, stored);
                              updates.add(new Object[] {fresh, saveId, seq});
                            }
                            out.add(id, reseal, seq);
                          }
                        }
                        update(s, CHUNK_UPDATE, updates);
                        return out;
                      }));
    }
  }

  private static void update(Writer.Session s, String sql, List<Object[]> rows)
      throws SQLException {
    PreparedStatement ps = s.conn().prepare(sql);
    for (Object[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        ps.setObject(i + 1, row[i]);
      }
      if (ps.executeUpdate() != 1) {
        throw new IllegalStateException("reseal: a row read in this step vanished: " + sql);
      }
    }
  }
}
