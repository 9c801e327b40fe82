package io.cairn.bench.postgres;

import com.typesafe.config.ConfigFactory;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.queue.Delivery;
import io.cairn.queue.DurableQueue;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;

/**
 * One message through a queue shared by instances on PostgreSQL, per operation: enqueue a 100-byte
 * payload, lease it, ack it. {@code CAIRN} is a {@link DurableQueue} on the postgres backend (the
 * shared engine over the backend's leased-queue table); {@code RAW} runs the same three statements
 * through pgjdbc and the same pool settings on an identical table: {@code nextval} + {@code
 * INSERT}, the {@code FOR UPDATE SKIP LOCKED} lease ({@code UPDATE ... RETURNING}) and the
 * token-checked {@code DELETE}, with a CRC-32C computed as Cairn does and nothing else. The
 * difference is what Cairn adds (argument checks, sealing hook, row checks, the queue's bookkeeping
 * and metrics).
 *
 * <p>Needs a running server: {@code -Dpg.url=jdbc:postgresql://localhost:5432/postgres}, as {@link
 * PostgresKeyValueBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
public class PostgresQueueBenchmark {
  /** Cairn's shared queue, or raw pgjdbc running its statements. */
  public enum Impl {
    CAIRN,
    RAW
  }

  private static final String QUEUE = "bench";
  private static final String LEASE =
      "WITH due AS (SELECT id FROM queue_message"
          + " WHERE queue = ? AND state < 2 AND visible_at <= now()"
          + " ORDER BY visible_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)"
          + " UPDATE queue_message m SET state = 1, attempts = m.attempts + 1,"
          + " visible_at = now() + 30000 * interval '1 millisecond'"
          + " FROM due WHERE m.queue = ? AND m.id = due.id"
          + " RETURNING m.id, m.payload, m.attempts, m.crc";

  @Param Impl impl;

  @Param({"normal", "full"})
  String durability;

  byte[] payload;
  PersistenceRegistry registry;
  DurableQueue<byte[]> queue;
  HikariDataSource raw;

  @Setup(Level.Trial)
  public void setUp() throws SQLException {
    payload = new byte[100];
    new Random(42).nextBytes(payload);
    String schema = "bench_queue_" + impl.name().toLowerCase(java.util.Locale.ROOT);
    PostgresKeyValueBenchmark.dropSchema(schema);
    registry =
        PersistenceRegistry.builder()
            .open(
                ConfigFactory.parseString(
                    "cairn.backends.bench { type = postgres, jdbc-url = \""
                        + PostgresKeyValueBenchmark.url()
                        + "\", user = "
                        + PostgresKeyValueBenchmark.user()
                        + ", schema = "
                        + schema
                        + ", durability = "
                        + durability
                        + ", sweeper-interval = 0s }\n"
                        + "cairn.queues.bench { backend = bench, visibility-timeout = 30s }"));
    if (impl == Impl.CAIRN) {
      queue = DurableQueue.openRaw(registry, QUEUE);
      return;
    }
    registry.close(); // it created the tables RAW uses
    registry = null;
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(PostgresKeyValueBenchmark.url());
    hc.setUsername(PostgresKeyValueBenchmark.user());
    hc.setMaximumPoolSize(10);
    hc.setMinimumIdle(2);
    hc.setConnectionInitSql(
        "SET search_path TO "
            + schema
            + "; SET synchronous_commit TO "
            + ("full".equals(durability) ? "on" : "off"));
    raw = new HikariDataSource(hc);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (queue != null) {
      queue.close();
    }
    if (registry != null) {
      registry.close();
    }
    if (raw != null) {
      raw.close();
    }
  }

  @Benchmark
  public long enqueueLeaseAck() throws SQLException {
    return impl == Impl.CAIRN ? cairn() : raw();
  }

  private long cairn() {
    queue.enqueue(payload);
    List<Delivery<byte[]>> ds = queue.poll(1, Duration.ZERO);
    if (ds.isEmpty() || !queue.ack(ds.get(0))) {
      throw new IllegalStateException("the message just enqueued was not leased and acked");
    }
    return ds.get(0).id();
  }

  private long raw() throws SQLException {
    long id;
    try (Connection c = raw.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("SELECT nextval('queue_message_id')");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        id = rs.getLong(1);
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO queue_message (queue, id, state, visible_at, attempts, enqueued_at,"
                  + " payload, crc) VALUES (?, ?, 0, now(), 0, now(), ?, ?)")) {
        ps.setString(1, QUEUE);
        ps.setLong(2, id);
        ps.setBytes(3, payload);
        ps.setInt(4, crc(id, payload));
        ps.executeUpdate();
      }
      c.commit();
      c.setAutoCommit(true);
    }
    long leased;
    int token;
    try (Connection c = raw.getConnection();
        PreparedStatement ps = c.prepareStatement(LEASE)) {
      ps.setString(1, QUEUE);
      ps.setString(2, QUEUE);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("nothing to lease");
        }
        leased = rs.getLong(1);
        byte[] stored = rs.getBytes(2);
        token = rs.getInt(3);
        if (crc(leased, stored) != rs.getInt(4)) {
          throw new IllegalStateException("checksum");
        }
      }
    }
    try (Connection c = raw.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "DELETE FROM queue_message WHERE queue = ? AND id = ? AND state = 1"
                    + " AND attempts = ?")) {
      ps.setString(1, QUEUE);
      ps.setLong(2, leased);
      ps.setInt(3, token);
      if (ps.executeUpdate() != 1) {
        throw new IllegalStateException("ack refused");
      }
    }
    return leased;
  }

  private static int crc(long id, byte[] stored) {
    CRC32C crc = new CRC32C();
    crc.update(QUEUE.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    crc.update(java.nio.ByteBuffer.allocate(8).putLong(id).array());
    crc.update(stored);
    return (int) crc.getValue();
  }
}
