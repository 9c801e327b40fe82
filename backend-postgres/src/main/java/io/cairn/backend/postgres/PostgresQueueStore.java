package io.cairn.backend.postgres;

import io.cairn.persistence.LeasedQueueStore;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.Sealer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.zip.CRC32C;

/**
 * {@link LeasedQueueStore} on the {@code queue_message} table (schema version 2, see {@link
 * PostgresSchema} for the layout).
 *
 * <h2>How leases stay exclusive across processes</h2>
 *
 * A lease is one statement: a CTE selects the due head of the queue through the partial index
 * {@code queue_message_due} with {@code FOR UPDATE SKIP LOCKED LIMIT n}, and the {@code UPDATE}
 * joined to it marks those rows leased, bumps {@code attempts} and sets {@code visible_at} to the
 * lease deadline, {@code RETURNING} them. The row locks serialise two lessees of one row, and
 * {@code SKIP LOCKED} makes a second lessee take the next rows instead of waiting: two transactions
 * can never both update one row from "due" to "leased" (the second one, had it waited, would
 * re-check {@code visible_at <= now()} under READ COMMITTED and skip it). The lease token is the
 * row's {@code attempts} after the bump: it grows with every lease of the message and ids are never
 * reused (a redrive takes a new id), so (id, token) names one lease forever. Settling is {@code ...
 * WHERE queue = ? AND id = ? AND state = 1 AND attempts = token}: a stale token matches no row.
 * Every time is the server's {@code now()} (see the interface for why).
 *
 * <h2>Checks</h2>
 *
 * Each row carries a CRC-32C over queue, id and stored payload, checked on every read, so a damaged
 * payload or a row answering for another id throws {@link StoreCorruptedException}; payloads are
 * sealed through the backend's {@link Sealer} bound to {@code "$queue/" + queue} and the id (a name
 * no log can have, so a sealed payload cannot be moved into a log record and opened there).
 *
 * <p>Thread-safe: every call is one statement or one transaction on a pooled connection.
 */
final class PostgresQueueStore implements LeasedQueueStore {
  private static final String LEASE_SQL =
      "WITH due AS (SELECT id FROM queue_message"
          + " WHERE queue = ? AND state < 2 AND visible_at <= now()"
          + " ORDER BY visible_at, id LIMIT ? FOR UPDATE SKIP LOCKED)"
          + " UPDATE queue_message m SET"
          + " state = CASE WHEN m.attempts >= ? THEN 2 ELSE 1 END,"
          + " attempts = CASE WHEN m.attempts >= ? THEN m.attempts ELSE m.attempts + 1 END,"
          + " visible_at = CASE WHEN m.attempts >= ? THEN m.visible_at"
          + " ELSE now() + ? * interval '1 millisecond' END,"
          + " dead_at = CASE WHEN m.attempts >= ? THEN now() END,"
          + " reason = CASE WHEN m.attempts >= ? THEN CASE WHEN m.state = 1"
          + " THEN 'max-attempts reached (lease expired)' ELSE 'max-attempts reached' END END"
          + " FROM due WHERE m.queue = ? AND m.id = due.id"
          + " RETURNING m.id, m.state, m.payload, m.attempts, m.enqueued_at, m.visible_at, m.crc";

  private final PostgresBackend backend;
  private final Sealer sealer;

  PostgresQueueStore(PostgresBackend backend, Sealer sealer) {
    this.backend = backend;
    this.sealer = sealer;
  }

  private static String where(String queue) {
    return "queue '" + queue + "'";
  }

  private static String checkQueue(String queue) {
    Objects.requireNonNull(queue, "queue");
    if (queue.isEmpty() || queue.length() > MAX_QUEUE_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "queue name must have 1 to "
              + MAX_QUEUE_NAME_LENGTH
              + " characters, got '"
              + queue
              + "'");
    }
    return queue;
  }

  private static long millis(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isNegative()) {
      throw new IllegalArgumentException(what + " must not be negative, got " + d);
    }
    try {
      return d.toMillis();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE / 4;
    }
  }

  private static String sealName(String queue) {
    return "$queue/" + queue;
  }

  static int crc(String queue, long id, byte[] stored) {
    byte[] q = queue.getBytes(StandardCharsets.UTF_8);
    CRC32C crc = new CRC32C();
    crc.update(
        ByteBuffer.allocate(14)
            .put((byte) 'q')
            .put((byte) 'm')
            .putInt(q.length)
            .putLong(id)
            .flip());
    crc.update(q);
    crc.update(stored);
    return (int) crc.getValue();
  }

  private byte[] open(String queue, long id, byte[] stored, int crc) {
    if (crc(queue, id, stored) != crc) {
      throw new StoreCorruptedException(
          backend.name()
              + ": message "
              + id
              + " of queue '"
              + queue
              + "' (table queue_message) fails its checksum: the row was altered outside Cairn"
              + " or damaged. Run 'cairn verify'; dead-letter or purge the message, or restore"
              + " from a backup.");
    }
    return sealer.openPayload(sealName(queue), id, stored);
  }

  private static Instant instant(ResultSet rs, int column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  // ------------------------------------------------------------------ enqueue

  @Override
  public long enqueue(String queue, byte[] payload) {
    return enqueueAll(queue, List.of(Objects.requireNonNull(payload, "payload"))).get(0);
  }

  @Override
  public List<Long> enqueueAll(String queue, List<byte[]> payloads) {
    checkQueue(queue);
    Objects.requireNonNull(payloads, "payloads");
    for (byte[] p : payloads) {
      Objects.requireNonNull(p, "payload");
    }
    if (payloads.isEmpty()) {
      return List.of();
    }
    return backend.transaction(
        "enqueue " + payloads.size() + " message(s)",
        where(queue),
        c -> insert(c, queue, payloads));
  }

  /** Inserts new ready messages, enqueued now, with new ids; returns the ids. */
  private List<Long> insert(Connection c, String queue, List<byte[]> payloads) throws SQLException {
    List<Long> ids = new ArrayList<>(payloads.size());
    try (PreparedStatement ps =
        c.prepareStatement("SELECT nextval('queue_message_id') FROM generate_series(1, ?)")) {
      ps.setInt(1, payloads.size());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getLong(1));
        }
      }
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO queue_message (queue, id, state, visible_at, attempts, enqueued_at,"
                + " payload, crc) VALUES (?, ?, 0, now(), 0, now(), ?, ?)")) {
      for (int i = 0; i < payloads.size(); i++) {
        long id = ids.get(i);
        byte[] stored = sealer.sealPayload(sealName(queue), id, payloads.get(i));
        ps.setString(1, queue);
        ps.setLong(2, id);
        ps.setBytes(3, stored);
        ps.setInt(4, crc(queue, id, stored));
        ps.addBatch();
      }
      ps.executeBatch();
    }
    return ids;
  }

  // ------------------------------------------------------------------ lease

  @Override
  public LeaseBatch lease(String queue, int max, Duration visibility, int maxAttempts) {
    checkQueue(queue);
    if (max <= 0) {
      throw new IllegalArgumentException("max must be positive, got " + max);
    }
    if (maxAttempts <= 0) {
      throw new IllegalArgumentException("maxAttempts must be positive, got " + maxAttempts);
    }
    long vis = millis(visibility, "visibility");
    if (vis == 0) {
      throw new IllegalArgumentException("visibility must be positive, got " + visibility);
    }
    return backend.call(
        "lease up to " + max + " message(s)",
        where(queue),
        c -> {
          List<Lease> leases = new ArrayList<>();
          int dead = 0;
          try (PreparedStatement ps = c.prepareStatement(LEASE_SQL)) {
            ps.setString(1, queue);
            ps.setInt(2, max);
            ps.setInt(3, maxAttempts);
            ps.setInt(4, maxAttempts);
            ps.setInt(5, maxAttempts);
            ps.setLong(6, vis);
            ps.setInt(7, maxAttempts);
            ps.setInt(8, maxAttempts);
            ps.setString(9, queue);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                if (rs.getInt(2) == 2) {
                  dead++;
                  continue;
                }
                long id = rs.getLong(1);
                int attempt = rs.getInt(4);
                leases.add(
                    new Lease(
                        id,
                        open(queue, id, rs.getBytes(3), rs.getInt(7)),
                        attempt,
                        attempt,
                        instant(rs, 5),
                        instant(rs, 6)));
              }
            }
          }
          // RETURNING has no order; hand out by id (enqueue order for first deliveries).
          leases.sort(Comparator.comparingLong(Lease::id));
          return new LeaseBatch(List.copyOf(leases), dead);
        });
  }

  // ------------------------------------------------------------------ settle

  private static final String LEASED = " WHERE queue = ? AND id = ? AND state = 1 AND attempts = ?";

  private int settle(String op, String queue, long id, long token, String sql, Object... args) {
    checkQueue(queue);
    if (token <= 0 || token > Integer.MAX_VALUE) {
      return 0; // no lease ever had this token
    }
    return backend.call(
        op + " message " + id,
        where(queue),
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql + LEASED)) {
            int i = 1;
            for (Object a : args) {
              ps.setObject(i++, a);
            }
            ps.setString(i++, queue);
            ps.setLong(i++, id);
            ps.setInt(i, (int) token);
            return ps.executeUpdate();
          }
        });
  }

  @Override
  public boolean ack(String queue, long id, long token) {
    return settle("ack", queue, id, token, "DELETE FROM queue_message") == 1;
  }

  @Override
  public boolean nack(String queue, long id, long token, Duration delay) {
    long ms = millis(delay, "delay");
    return settle(
            "nack",
            queue,
            id,
            token,
            "UPDATE queue_message SET state = 0, visible_at = now() + ? * interval '1 millisecond'",
            ms)
        == 1;
  }

  @Override
  public boolean deadLetter(String queue, long id, long token, String reason) {
    Objects.requireNonNull(reason, "reason");
    return settle(
            "dead-letter",
            queue,
            id,
            token,
            "UPDATE queue_message SET state = 2, dead_at = now(), reason = ?",
            reason)
        == 1;
  }

  @Override
  public Optional<Instant> extend(String queue, long id, long token, Duration visibility) {
    checkQueue(queue);
    long ms = millis(visibility, "visibility");
    if (token <= 0 || token > Integer.MAX_VALUE) {
      return Optional.empty();
    }
    return backend.call(
        "extend the lease of message " + id,
        where(queue),
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE queue_message SET visible_at = now() + ? * interval '1 millisecond'"
                      + LEASED
                      + " RETURNING visible_at")) {
            ps.setLong(1, ms);
            ps.setString(2, queue);
            ps.setLong(3, id);
            ps.setInt(4, (int) token);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? Optional.of(instant(rs, 1)) : Optional.<Instant>empty();
            }
          }
        });
  }

  // ------------------------------------------------------------------ dead letters

  @Override
  public List<DeadMessage> deadLetters(String queue, long fromId, int max) {
    checkQueue(queue);
    if (max <= 0) {
      throw new IllegalArgumentException("max must be positive, got " + max);
    }
    return backend.call(
        "list dead letters",
        where(queue),
        c -> {
          List<DeadMessage> out = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT id, payload, crc, attempts, enqueued_at, dead_at, reason"
                      + " FROM queue_message WHERE queue = ? AND state = 2 AND id >= ?"
                      + " ORDER BY id LIMIT ?")) {
            ps.setString(1, queue);
            ps.setLong(2, fromId);
            ps.setInt(3, max);
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                long id = rs.getLong(1);
                out.add(
                    new DeadMessage(
                        id,
                        open(queue, id, rs.getBytes(2), rs.getInt(3)),
                        rs.getInt(4),
                        instant(rs, 5),
                        instant(rs, 6),
                        rs.getString(7)));
              }
            }
          }
          return out;
        });
  }

  @Override
  public int redrive(String queue, Collection<Long> ids) {
    checkQueue(queue);
    Objects.requireNonNull(ids, "ids");
    TreeSet<Long> sorted = new TreeSet<>();
    for (Long id : ids) {
      sorted.add(Objects.requireNonNull(id, "id"));
    }
    if (sorted.isEmpty()) {
      return 0;
    }
    return backend.transaction(
        "redrive " + sorted.size() + " dead letter(s)",
        where(queue),
        c -> {
          // The payload is sealed to its id, so a new id means open, delete, insert anew.
          List<byte[]> payloads = new ArrayList<>();
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM queue_message WHERE queue = ? AND state = 2 AND id = ANY (?)"
                      + " RETURNING id, payload, crc")) {
            ps.setString(1, queue);
            ps.setArray(2, c.createArrayOf("bigint", sorted.toArray()));
            List<long[]> order = new ArrayList<>();
            List<byte[]> byRow = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                long id = rs.getLong(1);
                order.add(new long[] {id, byRow.size()});
                byRow.add(open(queue, id, rs.getBytes(2), rs.getInt(3)));
              }
            }
            order.sort(Comparator.comparingLong(a -> a[0]));
            for (long[] o : order) {
              payloads.add(byRow.get((int) o[1]));
            }
          }
          if (payloads.isEmpty()) {
            return 0;
          }
          insert(c, queue, payloads);
          return payloads.size();
        });
  }

  @Override
  public long purge(String queue, boolean deadLetters) {
    checkQueue(queue);
    return backend.call(
        "purge",
        where(queue),
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "DELETE FROM queue_message WHERE queue = ?"
                      + (deadLetters ? "" : " AND state < 2"))) {
            ps.setString(1, queue);
            return (long) ps.executeUpdate();
          }
        });
  }

  @Override
  public Counts counts(String queue) {
    checkQueue(queue);
    return backend.call(
        "count messages",
        where(queue),
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT count(*) FILTER (WHERE state < 2 AND visible_at <= now()),"
                      + " count(*) FILTER (WHERE state = 0 AND visible_at > now()),"
                      + " count(*) FILTER (WHERE state = 1 AND visible_at > now()),"
                      + " count(*) FILTER (WHERE state = 2),"
                      + " coalesce((extract(epoch FROM now() - min(enqueued_at)"
                      + " FILTER (WHERE state < 2)) * 1000)::bigint, 0)"
                      + " FROM queue_message WHERE queue = ?")) {
            ps.setString(1, queue);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return new Counts(
                  rs.getLong(1),
                  rs.getLong(2),
                  rs.getLong(3),
                  rs.getLong(4),
                  Math.max(0, rs.getLong(5)));
            }
          }
        });
  }

  @Override
  public java.util.SortedSet<String> queues() {
    return backend.call(
        "list queues",
        "the queue table",
        c -> {
          java.util.SortedSet<String> names = new java.util.TreeSet<>();
          try (PreparedStatement ps =
                  c.prepareStatement("SELECT DISTINCT queue FROM queue_message");
              ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              names.add(rs.getString(1));
            }
          }
          return names;
        });
  }

  @Override
  public String toString() {
    return "PostgresQueueStore[" + backend.name() + "]";
  }
}
