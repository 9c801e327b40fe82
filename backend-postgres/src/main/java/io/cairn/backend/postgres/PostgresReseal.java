package io.cairn.backend.postgres;

import io.cairn.persistence.Progress;
import io.cairn.persistence.ResealReport;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.ResealPages;
import io.cairn.persistence.spi.Sealer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link io.cairn.persistence.StorageBackend#reseal} for PostgreSQL: rewrites, in place, the {@code
 * kv.value}, {@code log_record.payload} and {@code snapshot_chunk.data} that are not sealed with
 * the primary key, each with a new row checksum ({@link PgChecksums}). No other column changes:
 * versions, {@code expires_at} (expired rows are re-sealed, not purged), offsets, {@code log_head}
 * and the {@code snapshot} rows stay as they are.
 *
 * <p>Each page of at most {@value #PAGE} rows is read {@code FOR UPDATE} and rewritten in ONE
 * transaction, so it is atomic, and a concurrent write of one of its rows (from this or another
 * process) waits for it or is waited for; each row is judged as it is at that moment. Before
 * re-sealing, the row's checksum is checked, so a damaged version, expiry, key or offset is
 * reported ({@link StoreCorruptedException}) rather than sealed under a fresh checksum. Rows under
 * the primary key are skipped: a run stopped at any point (a page is one transaction) is resumed by
 * running it again; no cursor is kept.
 *
 * <p>Snapshot chunks are re-sealed per snapshot row (which gives the set and version a chunk is
 * bound to); a save is one transaction, so there are no chunks without a row.
 */
final class PostgresReseal {
  static final int PAGE = 256;

  private static final String KV_PAGE =
      "SELECT ns, key, value, version, expires_at, crc FROM kv WHERE (ns, key) > (?, ?)"
          + " ORDER BY ns, key LIMIT "
          + PAGE
          + " FOR UPDATE";
  private static final String KV_UPDATE =
      "UPDATE kv SET value = ?, crc = ? WHERE ns = ? AND key = ?";
  private static final String LOG_PAGE =
      "SELECT log, record_offset, payload, crc, appended_at FROM log_record WHERE (log, record_offset) > (?, ?)"
          + " ORDER BY log, record_offset LIMIT "
          + PAGE
          + " FOR UPDATE";
  private static final String LOG_UPDATE =
      "UPDATE log_record SET payload = ?, crc = ? WHERE log = ? AND record_offset = ?";
  private static final String SNAPSHOTS =
      "SELECT store, version, save_id FROM snapshot ORDER BY store, version";
  private static final String CHUNK_PAGE =
      "SELECT seq, data, crc FROM snapshot_chunk WHERE save_id = ? AND seq > ? ORDER BY seq LIMIT "
          + PAGE
          + " FOR UPDATE";
  private static final String CHUNK_UPDATE =
      "UPDATE snapshot_chunk SET data = ?, crc = ? WHERE save_id = ? AND seq = ?";

  private final PostgresBackend backend;
  private final Sealer sealer;
  private final ResealPages pages;

  private PostgresReseal(PostgresBackend backend, Progress progress) {
    this.backend = backend;
    this.sealer = backend.sealer();
    this.pages = new ResealPages(backend.name(), PAGE, progress);
  }

  static ResealReport run(PostgresBackend backend, Progress progress) {
    PostgresReseal r = new PostgresReseal(backend, progress);
    r.keyValues();
    r.logs();
    r.snapshots();
    return r.pages.report();
  }

  /**
   * Reads one page on {@code c} from {@code from}, adding the rows to rewrite to {@code updates}.
   */
  @FunctionalInterface
  private interface PageReader {
    ResealPages.Page read(Connection c, Object[] from, List<Object[]> updates) throws SQLException;
  }

  /**
   * Runs pages from {@code start} until one comes back short ({@link ResealPages}): each page read
   * and rewritten (with {@code updateSql}) in one transaction.
   */
  private void pages(String where, String updateSql, Object[] start, PageReader reader) {
    pages.run(
        start,
        from ->
            backend.transaction(
                "reseal",
                where,
                c -> {
                  List<Object[]> updates = new ArrayList<>();
                  ResealPages.Page out = reader.read(c, from, updates);
                  update(c, updateSql, updates);
                  return out;
                }));
  }

  private void keyValues() {
    pages(
        "key-value namespaces",
        KV_UPDATE,
        new Object[] {"", new byte[0]},
        (c, from, updates) -> {
          ResealPages.Page out = new ResealPages.Page(from);
          try (PreparedStatement ps = c.prepareStatement(KV_PAGE)) {
            ps.setString(1, (String) from[0]);
            ps.setBytes(2, (byte[]) from[1]);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                String ns = rs.getString(1);
                byte[] key = rs.getBytes(2);
                byte[] stored = rs.getBytes(3);
                long version = rs.getLong(4);
                long expires = rs.getLong(5);
                PostgresKeyValueStore.checked(ns, key, version, expires, stored, rs.getInt(6));
                boolean reseal = sealer.needsReseal(stored);
                if (reseal) {
                  byte[] fresh = sealer.resealValue(ns, key, stored);
                  int crc = PgChecksums.kv(ns, key, version, expires, fresh);
                  updates.add(new Object[] {fresh, crc, ns, key});
                }
                out.add(new StoreId(StoreKind.KEY_VALUE, ns), reseal, ns, key);
              }
            }
          }
          return out;
        });
  }

  private void logs() {
    pages(
        "logs",
        LOG_UPDATE,
        new Object[] {"", -1L},
        (c, from, updates) -> {
          ResealPages.Page out = new ResealPages.Page(from);
          try (PreparedStatement ps = c.prepareStatement(LOG_PAGE)) {
            ps.setString(1, (String) from[0]);
            ps.setLong(2, (Long) from[1]);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                String log = rs.getString(1);
                long offset = rs.getLong(2);
                byte[] stored = rs.getBytes(3);
                long appendedAt = rs.getLong(5);
                int actual = PgChecksums.log(log, offset, stored, appendedAt);
                if (actual != rs.getInt(4)) {
                  throw new StoreCorruptedException(
                      String.format(
                          "Record %d of log '%s' in %s fails its checksum (computed CRC-32C %08x"
                              + " over log name, offset, payload and append time); it was not"
                              + " re-encrypted."
                              + " Run 'cairn verify' and restore from a backup.",
                          offset, log, backend, actual));
                }
                boolean reseal = sealer.needsReseal(stored);
                if (reseal) {
                  byte[] fresh = sealer.resealPayload(log, offset, stored);
                  updates.add(
                      new Object[] {
                        fresh, PgChecksums.log(log, offset, fresh, appendedAt), log, offset
                      });
                }
                out.add(new StoreId(StoreKind.LOG, log), reseal, log, offset);
              }
            }
          }
          return out;
        });
  }

  private void snapshots() {
    List<Object[]> saves =
        backend.call(
            "reseal",
            "snapshots",
            c -> {
              List<Object[]> out = new ArrayList<>();
              try (PreparedStatement ps = c.prepareStatement(SNAPSHOTS);
                  ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  out.add(new Object[] {rs.getString(1), rs.getLong(2), rs.getLong(3)});
                }
              }
              return out;
            });
    for (Object[] save : saves) {
      String set = (String) save[0];
      long version = (Long) save[1];
      long saveId = (Long) save[2];
      StoreId id = new StoreId(StoreKind.SNAPSHOT, set);
      String at = "snapshot:" + set + " version " + version;
      pages(
          at,
          CHUNK_UPDATE,
          new Object[] {-1},
          (c, from, updates) -> {
            ResealPages.Page out = new ResealPages.Page(from);
            try (PreparedStatement ps = c.prepareStatement(CHUNK_PAGE)) {
              ps.setLong(1, saveId);
              ps.setInt(2, (Integer) from[0]);
              try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                  int seq = rs.getInt(1);
                  byte[] stored = rs.getBytes(2);
                  if (PgChecksums.chunk(saveId, seq, stored) != rs.getInt(3)) {
                    throw new StoreCorruptedException(
                        "Chunk "
                            + seq
                            + " of "
                            + at
                            + " in "
                            + backend
                            + " fails its checksum; it was not re-encrypted. Run 'cairn verify'"
                            + " and restore from a backup.");
                  }
                  boolean reseal = sealer.needsReseal(stored);
                  if (reseal) {
                    byte[] fresh = sealer.resealChunk(set, version, seq, stored);
                    updates.add(
                        new Object[] {fresh, PgChecksums.chunk(saveId, seq, fresh), saveId, seq});
                  }
                  out.add(id, reseal, seq);
                }
              }
            }
            return out;
          });
    }
  }

  /** Runs {@code sql} once per row of parameters, as one batch. */
  private static void update(Connection c, String sql, List<Object[]> rows) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (Object[] row : rows) {
        for (int i = 0; i < row.length; i++) {
          ps.setObject(i + 1, row[i]);
        }
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }
}
