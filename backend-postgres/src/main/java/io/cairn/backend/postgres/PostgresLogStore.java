package io.cairn.backend.postgres;

import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.ArgumentChecks;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.function.IntToLongFunction;

/**
 * One log: its {@code log_head} row and its {@code log_record} rows (layout in {@link
 * PostgresSchema}). Thread-safe; usable from several processes at once.
 *
 * <h2>Gap-free offsets under concurrent appenders</h2>
 *
 * An append is one transaction: {@code UPDATE log_head SET next_offset = next_offset + n ...
 * RETURNING next_offset} takes the offsets and locks the log's head row, the records are inserted,
 * and the commit releases the lock. A second appender to the same log (any thread, any process)
 * waits on that row lock until the first commits or rolls back, then reads the counter the first
 * left. So offsets are handed out one after another in commit order; a rolled-back append rolls its
 * counter increment back with it (nothing is skipped); the counter never goes down (nothing is
 * reused, also after {@link #truncateBefore}, which only raises {@code first_offset}). A reader
 * sees the counter and the records of a commit together, so it never sees a gap below {@link
 * #nextOffset()}.
 *
 * <p>The cost: appends to one log are serialised for the length of their transaction, including the
 * commit's WAL flush under {@code durability = full}, so one log takes at most about one append
 * transaction per commit latency (batch with {@link #appendAll} to go faster). Appends to different
 * logs do not wait for each other. A sequence would not wait, but its values are handed out outside
 * the transaction and lost on rollback: gaps.
 */
final class PostgresLogStore implements LogStore {
  static final String TAKE =
      "UPDATE log_head SET next_offset = next_offset + ? WHERE log = ? RETURNING next_offset";
  static final String CREATE =
      "INSERT INTO log_head (log, first_offset, next_offset) VALUES (?, 0, 0)"
          + " ON CONFLICT (log) DO NOTHING";
  static final String INSERT =
      "INSERT INTO log_record (log, record_offset, payload, crc, appended_at)"
          + " VALUES (?, ?, ?, ?, ?)";
  static final String HEAD = "SELECT first_offset, next_offset FROM log_head WHERE log = ?";

  /** One statement, so one snapshot: the head and the records agree. */
  static final String READ =
      "SELECT h.first_offset, h.next_offset, r.record_offset, r.payload, r.crc, r.appended_at"
          + " FROM log_head h LEFT JOIN LATERAL (SELECT record_offset, payload, crc, appended_at"
          + " FROM log_record WHERE log = h.log AND record_offset >= greatest(?, h.first_offset)"
          + " AND record_offset < h.next_offset ORDER BY record_offset LIMIT ?) r ON true"
          + " WHERE h.log = ?";

  private final PostgresBackend backend;
  private final String name;
  private final String where;

  PostgresLogStore(PostgresBackend backend, String name) {
    this.backend = backend;
    this.name = name;
    this.where = "log:" + name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long append(byte[] payload) {
    List<byte[]> one = checked(java.util.Collections.singletonList(payload));
    return backend.transaction(
        "append", where, c -> appendIn(backend, c, name, one, backend.clock().millis()));
  }

  /**
   * Checks every payload (nothing is appended if one is bad); shared by the store and the
   * transaction view. Sealing waits for the offsets, which only the appending transaction knows
   * ({@link #appendIn}).
   */
  static List<byte[]> checked(List<byte[]> payloads) {
    java.util.Objects.requireNonNull(payloads, "payloads");
    List<byte[]> out = new ArrayList<>(payloads);
    for (byte[] p : out) {
      ArgumentChecks.checkPayload(p);
    }
    return out;
  }

  @Override
  public long appendAll(List<byte[]> payloads) {
    List<byte[]> checked = checked(payloads);
    if (checked.isEmpty()) {
      return nextOffset();
    }
    return backend.transaction(
        "appendAll",
        where + " (" + checked.size() + " records)",
        c -> appendIn(backend, c, name, checked, backend.clock().millis()));
  }

  @Override
  public List<LogRecord> read(long fromOffset, int maxRecords) {
    ArgumentChecks.checkOffset("fromOffset", fromOffset);
    ArgumentChecks.checkMaxRecords(maxRecords);
    return backend.call(
        "read",
        where,
        c -> {
          try (PreparedStatement ps = c.prepareStatement(READ)) {
            ps.setLong(1, fromOffset);
            ps.setInt(2, maxRecords);
            ps.setString(3, name);
            List<LogRecord> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              long first = -1;
              long next = -1;
              while (rs.next()) {
                first = rs.getLong(1);
                next = rs.getLong(2);
                long offset = rs.getLong(3);
                if (rs.wasNull()) {
                  break;
                }
                long expected = Math.max(fromOffset, first) + out.size();
                if (offset != expected) {
                  throw missing(expected, offset, first, next);
                }
                byte[] stored = rs.getBytes(4);
                long appendedAt = rs.getLong(6);
                if (PgChecksums.log(name, offset, stored, appendedAt) != rs.getInt(5)
                    || appendedAt < -1) {
                  throw new StoreCorruptedException(
                      "Record "
                          + offset
                          + " of "
                          + where
                          + " fails its checksum (over log, offset, payload and append time); it is not"
                          + " returned. Run 'cairn verify' and restore from a backup.");
                }
                out.add(
                    new LogRecord(
                        offset, backend.sealer().openPayload(name, offset, stored), appendedAt));
              }
              long start = Math.max(fromOffset, first);
              if (first >= 0 && out.size() < maxRecords && start + out.size() < next) {
                throw missing(start + out.size(), -1, first, next);
              }
            }
            return out;
          }
        });
  }

  private StoreCorruptedException missing(long expected, long found, long first, long next) {
    return new StoreCorruptedException(
        "Record "
            + expected
            + " of "
            + where
            + " is missing (the log holds "
            + first
            + " to "
            + (next - 1)
            + (found >= 0 ? " but the next stored record is " + found : "")
            + "): the log_record table was changed outside Cairn or damaged. Run 'cairn verify'"
            + " and restore from a backup.");
  }

  @Override
  public long firstOffset() {
    return head()[0];
  }

  @Override
  public long nextOffset() {
    return head()[1];
  }

  private long[] head() {
    return backend.call("offsets", where, c -> headIn(c, name));
  }

  @Override
  public long truncateBefore(long offset) {
    ArgumentChecks.checkOffset("offset", offset);
    return backend.transaction(
        "truncateBefore",
        where,
        c -> {
          long newFirst;
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE log_head SET first_offset = greatest(first_offset, least(?,"
                      + " next_offset)) WHERE log = ? RETURNING first_offset")) {
            ps.setLong(1, offset);
            ps.setString(2, name);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) {
                return 0L; // never appended to: nothing to remove
              }
              newFirst = rs.getLong(1);
            }
          }
          try (PreparedStatement ps =
              c.prepareStatement("DELETE FROM log_record WHERE log = ? AND record_offset < ?")) {
            ps.setString(1, name);
            ps.setLong(2, newFirst);
            return (long) ps.executeUpdate();
          }
        });
  }

  // ---- shared with transactions ----

  static long[] headIn(Connection c, String log) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(HEAD)) {
      ps.setString(1, log);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new long[] {rs.getLong(1), rs.getLong(2)} : new long[] {0, 0};
      }
    }
  }

  /**
   * Appends checked payloads on {@code c}, inside the caller's transaction (which holds the head
   * row's lock until it ends); returns the first offset. Each payload is sealed here, once its
   * offset is taken from the head row, so the ciphertext is bound to the offset it is stored at; if
   * the transaction rolls back, the offsets and the ciphertexts go with it. Each record stores
   * {@code appendedAt} (epoch millis by the backend clock) as its append time.
   */
  static long appendIn(
      PostgresBackend backend, Connection c, String log, List<byte[]> payloads, long appendedAt)
      throws SQLException {
    long next = -1;
    try (PreparedStatement ps = c.prepareStatement(TAKE)) {
      for (int attempt = 0; attempt < 2 && next < 0; attempt++) {
        ps.setLong(1, payloads.size());
        ps.setString(2, log);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            next = rs.getLong(1);
          }
        }
        if (next < 0) {
          try (PreparedStatement create = c.prepareStatement(CREATE)) {
            create.setString(1, log);
            create.executeUpdate();
          }
        }
      }
    }
    long first = next - payloads.size();
    insertIn(backend, c, log, first, payloads.size(), payloads::get, i -> appendedAt);
    return first;
  }

  /**
   * Inserts the {@code log_record} rows of offsets {@code first} to {@code first + n - 1} on {@code
   * c}, inside the caller's transaction, which owns the offsets (it holds the head row): record
   * {@code i} is {@code payload.apply(i)}, sealed here bound to its offset, with append time {@code
   * appendedAt.applyAsLong(i)}, both in the row checksum. The one writer of log rows, shared by
   * {@link #appendIn} and {@link PostgresImporter}; several rows go as one JDBC batch.
   */
  static void insertIn(
      PostgresBackend backend,
      Connection c,
      String log,
      long first,
      int n,
      IntFunction<byte[]> payload,
      IntToLongFunction appendedAt)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(INSERT)) {
      for (int i = 0; i < n; i++) {
        long offset = first + i;
        long at = appendedAt.applyAsLong(i);
        byte[] p = backend.sealer().sealPayload(log, offset, payload.apply(i));
        ps.setString(1, log);
        ps.setLong(2, offset);
        ps.setBytes(3, p);
        ps.setInt(4, PgChecksums.log(log, offset, p, at));
        ps.setLong(5, at);
        if (n == 1) {
          ps.executeUpdate();
        } else {
          ps.addBatch();
        }
      }
      if (n > 1) {
        ps.executeBatch();
      }
    }
  }
}
