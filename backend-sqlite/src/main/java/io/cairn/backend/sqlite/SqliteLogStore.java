package io.cairn.backend.sqlite;

import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.Sealer;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One log: rows of {@code log_record} with {@code log = name}, plus its {@code log_meta} row after
 * a truncation (layout in {@link SqliteDatabase}). Offsets are assigned on the writer connection,
 * where the next offset is cached per log (dropped on any rollback), so appends are serialised and
 * gap-free. Reads run on reader connections and check each record's CRC-32C. Thread-safe.
 */
final class SqliteLogStore implements LogStore {
  static final String NEXT =
      "SELECT max(coalesce((SELECT max(record_offset) + 1 FROM log_record WHERE log = ?), 0),"
          + " coalesce((SELECT start_offset FROM log_meta WHERE log = ?), 0))";
  static final String INSERT =
      "INSERT INTO log_record (log, record_offset, payload, crc, appended_at)"
          + " VALUES (?, ?, ?, ?, ?)";
  static final String READ =
      "SELECT record_offset, payload, crc, appended_at FROM log_record"
          + " WHERE log = ? AND record_offset >= ? ORDER BY record_offset LIMIT ?";
  static final String FIRST = "SELECT min(record_offset) FROM log_record WHERE log = ?";
  static final String TRUNCATE = "DELETE FROM log_record WHERE log = ? AND record_offset < ?";
  static final String RAISE_START =
      "INSERT INTO log_meta (log, start_offset) VALUES (?, ?) ON CONFLICT (log)"
          + " DO UPDATE SET start_offset = max(start_offset, excluded.start_offset)";

  private final SqliteBackend backend;
  private final String log;
  private final String where;

  SqliteLogStore(SqliteBackend backend, String log) {
    this.backend = backend;
    this.log = log;
    this.where = "log:" + log;
  }

  @Override
  public String name() {
    return log;
  }

  @Override
  public long append(byte[] payload) {
    Objects.requireNonNull(payload, "payload");
    ArgumentChecks.checkValue(payload);
    byte[] copy = payload.clone();
    return backend
        .writer()
        .submit(true, "append", where, s -> appendIn(s, backend.sealer(), log, copy));
  }

  @Override
  public long appendAll(List<byte[]> payloads) {
    Objects.requireNonNull(payloads, "payloads");
    for (byte[] p : payloads) {
      Objects.requireNonNull(p, "payload");
      ArgumentChecks.checkValue(p);
    }
    if (payloads.isEmpty()) {
      return nextOffset();
    }
    List<byte[]> stored = new ArrayList<>(payloads.size());
    for (byte[] p : payloads) {
      stored.add(p.clone());
    }
    return backend
        .writer()
        .submit(
            false,
            "appendAll",
            where + " (" + stored.size() + " records)",
            s -> appendAllIn(s, backend.sealer(), log, stored));
  }

  @Override
  public List<LogRecord> read(long fromOffset, int maxRecords) {
    return read(backend.readers(), fromOffset, maxRecords);
  }

  /**
   * Reads of this log inside a read transaction: every query runs on {@code reads}, its one
   * snapshot.
   */
  io.cairn.persistence.Transaction.LogReader snapshotReader(Reads reads) {
    return new io.cairn.persistence.Transaction.LogReader() {
      @Override
      public List<LogRecord> read(long fromOffset, int maxRecords) {
        return SqliteLogStore.this.read(reads, fromOffset, maxRecords);
      }

      @Override
      public long firstOffset() {
        return SqliteLogStore.this.firstOffset(reads);
      }

      @Override
      public long nextOffset() {
        return reads.read("nextOffset", where, c -> nextIn(c, log));
      }
    };
  }

  private List<LogRecord> read(Reads reads, long fromOffset, int maxRecords) {
    ArgumentChecks.checkMaxRecords(maxRecords);
    long from = Math.max(0, fromOffset);
    return reads.read(
        "read",
        where + " from offset " + fromOffset,
        c -> {
          PreparedStatement ps = c.prepare(READ);
          ps.setString(1, log);
          ps.setLong(2, from);
          ps.setInt(3, maxRecords);
          List<LogRecord> out = new ArrayList<>();
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              long offset = rs.getLong(1);
              byte[] stored = rs.getBytes(2);
              long crc = rs.getLong(3);
              long appendedAt = rs.getLong(4);
              int actual = RowChecksums.log(log, offset, stored, appendedAt);
              if (actual != crc) {
                throw new StoreCorruptedException(
                    String.format(
                        "Record %d of %s in %s fails its checksum (stored CRC-32C %08x,"
                            + " computed %08x over log name, offset, payload and append time); it is not"
                            + " returned. Run 'cairn verify' and restore from a backup.",
                        offset, where, backend.describe(), (int) crc, actual));
              }
              long expected = out.isEmpty() ? offset : out.get(out.size() - 1).offset() + 1;
              if (offset != expected) {
                throw new StoreCorruptedException(
                    String.format(
                        "%s in %s has no record at offset %d (the next stored one is %d),"
                            + " although its records are gap-free by contract: records were"
                            + " lost. Run 'cairn verify' and restore from a backup.",
                        where, backend.describe(), expected, offset));
              }
              if (appendedAt < -1) {
                throw new StoreCorruptedException(
                    String.format(
                        "Record %d of %s in %s records a negative append time %d; it is not"
                            + " returned. Run 'cairn verify' and restore from a backup.",
                        offset, where, backend.describe(), appendedAt));
              }
              out.add(
                  new LogRecord(
                      offset, backend.sealer().openPayload(log, offset, stored), appendedAt));
            }
          }
          return out;
        });
  }

  @Override
  public long firstOffset() {
    return firstOffset(backend.readers());
  }

  private long firstOffset(Reads reads) {
    return reads.read(
        "firstOffset",
        where,
        c -> {
          PreparedStatement ps = c.prepare(FIRST);
          ps.setString(1, log);
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
              long first = rs.getLong(1);
              if (!rs.wasNull()) {
                return first;
              }
            }
          }
          return nextIn(c, log);
        });
  }

  @Override
  public long nextOffset() {
    return backend.readers().read("nextOffset", where, c -> nextIn(c, log));
  }

  @Override
  public long truncateBefore(long offset) {
    return backend
        .writer()
        .submit(
            false,
            "truncateBefore",
            where + " offset " + offset,
            s -> {
              long next = nextOffset(s, log);
              long cut = Math.min(offset, next);
              if (cut <= 0) {
                return 0L;
              }
              PreparedStatement del = s.conn().prepare(TRUNCATE);
              del.setString(1, log);
              del.setLong(2, cut);
              long removed = del.executeUpdate();
              PreparedStatement meta = s.conn().prepare(RAISE_START);
              meta.setString(1, log);
              meta.setLong(2, cut);
              meta.executeUpdate();
              return removed;
            });
  }

  // ---- the single implementation of each write, used by stores and transactions ----

  static long nextIn(Conn c, String log) throws SQLException {
    PreparedStatement ps = c.prepare(NEXT);
    ps.setString(1, log);
    ps.setString(2, log);
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  /** The next offset as the writer sees it (its own uncommitted appends included). */
  static long nextOffset(Writer.Session s, String log) throws SQLException {
    long next = s.cachedNextOffset(log);
    if (next < 0) {
      next = nextIn(s.conn(), log);
      s.cacheNextOffset(log, next);
    }
    return next;
  }

  /** Appends {@code payload}, sealed here where its offset is known (the offset is bound). */
  static long appendIn(Writer.Session s, Sealer sealer, String log, byte[] payload)
      throws SQLException {
    long offset = nextOffset(s, log);
    insert(s, log, offset, sealer.sealPayload(log, offset, payload), s.now());
    s.cacheNextOffset(log, offset + 1);
    return offset;
  }

  static long appendAllIn(Writer.Session s, Sealer sealer, String log, List<byte[]> payloads)
      throws SQLException {
    long first = nextOffset(s, log);
    long offset = first;
    for (byte[] p : payloads) {
      insert(s, log, offset, sealer.sealPayload(log, offset, p), s.now());
      offset++;
    }
    s.cacheNextOffset(log, offset);
    return first;
  }

  /** Inserts one sealed record with its append time (epoch millis, the batch's clock instant). */
  static void insert(Writer.Session s, String log, long offset, byte[] stored, long appendedAt)
      throws SQLException {
    PreparedStatement ps = s.conn().prepare(INSERT);
    ps.setString(1, log);
    ps.setLong(2, offset);
    ps.setBytes(3, stored);
    ps.setInt(4, RowChecksums.log(log, offset, stored, appendedAt));
    ps.setLong(5, appendedAt);
    ps.executeUpdate();
  }
}
