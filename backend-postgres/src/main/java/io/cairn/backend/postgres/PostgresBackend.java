package io.cairn.backend.postgres;

import com.codahale.metrics.CachedGauge;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheck;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Capability;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.CallGuard;
import io.cairn.persistence.spi.KeyCheckStore;
import io.cairn.persistence.spi.Sealer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link StorageBackend} on a PostgreSQL schema, reached through a HikariCP pool of pgjdbc
 * connections. Layout, checksums and migrations are documented on {@link PostgresSchema}; errors
 * are translated by {@link PostgresErrors}; gap-free log offsets on {@link PostgresLogStore};
 * versions on {@link PostgresKeyValueStore}.
 *
 * <h2>Durability</h2>
 *
 * Set per connection as {@code synchronous_commit}: {@code full} → {@code on} (a commit returns
 * after its WAL is flushed on the server, and on synchronous standbys if the server has them);
 * {@code normal} and {@code none} → {@code off} (a commit returns before the WAL flush: a crash of
 * this process loses nothing acknowledged, a crash of the PostgreSQL server or its machine may lose
 * the commits of the last {@code 3 × wal_writer_delay}, 600 ms by default, and never leaves a
 * partial transaction). PostgreSQL has no weaker logged mode, so {@code none} is {@code normal}
 * here. If the server runs with {@code fsync = off}, no setting is durable; the backend logs a
 * warning at open and reports it in {@link #health()} and {@link #stats()}.
 *
 * <h2>Several processes</h2>
 *
 * Many backends, in many processes, may open the same schema at once ({@link
 * Capability#MULTI_PROCESS}): every rule below holds across them, because it is kept by the server
 * (row locks, sequences, advisory locks), never by a JVM-local lock. There is no data directory and
 * no directory lock.
 *
 * <h2>Transactions</h2>
 *
 * {@link #inTransaction} first takes a session-level advisory lock on the schema (so transactions,
 * and {@code putAll}, of every process on this schema run one at a time, as the {@link Transaction}
 * contract says), then runs the work in one READ COMMITTED transaction on one connection. Single
 * writes ({@code put}, {@code append}, ...) do not take that lock; they lock only the rows they
 * change. So a transaction's reads see every commit made before each read, including single writes
 * of other threads made while it runs; two reads of one key inside the work may differ if another
 * thread writes that key in between (no other thread can run a transaction or putAll in between).
 *
 * <h2>Connections</h2>
 *
 * One HikariCP pool per backend; how operations, transactions and scans hold connections is on
 * {@link PostgresPool}. Close scans.
 *
 * <h2>Where each part lives</h2>
 *
 * This class is the {@link StorageBackend} face: opening, the stores, transactions, health,
 * extensions and close. {@link PostgresPool}: connections, calls, transactions and scans, inside
 * the close guard ({@link CallGuard}). {@link PostgresCatalog}: store listing and stats. {@link
 * PostgresVerify}: verify. {@link PostgresMaintenance}: compact, purge and the expiry sweeper.
 * {@link PostgresVersions}: key-value version blocks. {@link PostgresReseal}: re-encryption.
 *
 * <p>Thread-safe. Owns the pool and one daemon sweeper thread; both are released by {@link
 * #close()}.
 */
final class PostgresBackend implements StorageBackend, KeyCheckStore {
  private static final Logger log = LoggerFactory.getLogger(PostgresBackend.class);

  private final BackendContext ctx;
  private final PostgresSettings settings;
  private final CallGuard guard;
  private final PostgresErrors errors;
  private final PostgresPool pool;
  private final PostgresMaintenance maintenance;
  private final PostgresVersions versions = new PostgresVersions();
  private final Sealer sealer;
  private final Clock clock;
  private final MetricRegistry metrics;
  private final String metricPrefix;
  private final String describe;
  private final String serverFacts;
  private final boolean serverFsyncOff;
  private final Map<String, PostgresKeyValueStore> kvStores = new ConcurrentHashMap<>();
  private final Map<String, PostgresLogStore> logStores = new ConcurrentHashMap<>();
  private final Map<String, PostgresSnapshotStore> snapshotStores = new ConcurrentHashMap<>();
  private final PostgresQueueStore queues;

  private PostgresNotifications
      notifications; // created at the first extension() ask; guarded by this

  private PostgresBackend(
      BackendContext ctx,
      PostgresSettings settings,
      HikariDataSource dataSource,
      String describe,
      String serverFacts,
      boolean serverFsyncOff) {
    this.ctx = ctx;
    this.settings = settings;
    this.describe = describe;
    this.serverFacts = serverFacts;
    this.serverFsyncOff = serverFsyncOff;
    // the exception PostgresErrors.closedException() makes
    this.guard = new CallGuard(() -> new BackendClosedException(ctx.name()));
    this.errors = new PostgresErrors(ctx.name(), describe, guard::isClosed);
    this.clock = ctx.clock();
    this.pool = new PostgresPool(dataSource, settings, errors, guard, clock, describe);
    this.sealer = Sealer.of(ctx);
    this.queues = new PostgresQueueStore(this, sealer);
    this.metrics = ctx.metrics();
    this.metricPrefix = ctx.metricPrefix() + ".postgres";
    registerGauges();
    this.maintenance = new PostgresMaintenance(pool, settings, guard, clock, ctx.name(), describe);
  }

  /** {@code postgres backend 'main' at jdbc:postgresql://db/app schema cairn}. */
  static String describe(BackendContext ctx, PostgresSettings s) {
    String url = s.jdbcUrl();
    int q = url.indexOf('?');
    return "postgres backend '"
        + ctx.name()
        + "' at "
        + (q < 0 ? url : url.substring(0, q))
        + " schema "
        + s.schema();
  }

  static String synchronousCommit(Durability d) {
    return d == Durability.FULL ? "on" : "off";
  }

  /**
   * Opens the backend: builds the pool, creates or migrates the schema. Leaves nothing open if it
   * throws.
   */
  static PostgresBackend open(BackendContext ctx) {
    PostgresSettings settings = PostgresSettings.of(ctx.config(), "cairn.backends." + ctx.name());
    String describe = describe(ctx, settings);
    HikariDataSource pool = PostgresPool.connect(ctx, settings, describe);
    try {
      String facts;
      boolean fsyncOff;
      try (Connection c = pool.getConnection()) {
        int before = PostgresSchema.migrate(c, settings.schema(), describe);
        if (before < PostgresSchema.VERSION) {
          log.info(
              "{}: schema {} migrated from layout version {} to {}",
              describe,
              settings.schema(),
              before,
              PostgresSchema.VERSION);
        }
        try (Statement st = c.createStatement()) {
          facts = PostgresCatalog.one(st, "SHOW server_version");
          fsyncOff = "off".equals(PostgresCatalog.one(st, "SHOW fsync"));
        }
      } catch (SQLException e) {
        throw new PostgresErrors(ctx.name(), describe, () -> false)
            .translate(e, "open (schema migration)", "schema " + settings.schema(), false);
      }
      if (fsyncOff && ctx.durability() != Durability.NONE) {
        log.warn(
            "{}: the PostgreSQL server runs with fsync = off: durability = {} is not kept, a"
                + " server or OS crash can lose or corrupt committed data",
            describe,
            ctx.durability().configName());
      }
      return new PostgresBackend(ctx, settings, pool, describe, facts, fsyncOff);
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
  }

  private void registerGauges() {
    HikariPoolMXBean bean = pool.counts();
    gauge("pool-active", () -> (long) bean.getActiveConnections());
    gauge("pool-idle", () -> (long) bean.getIdleConnections());
    gauge("pool-total", () -> (long) bean.getTotalConnections());
    gauge("pool-waiting", () -> (long) bean.getThreadsAwaitingConnection());
    gauge(
        "schema-bytes",
        new CachedGauge<Long>(5, TimeUnit.SECONDS) {
          @Override
          protected Long loadValue() {
            try {
              return pool.call("schema size", null, PostgresCatalog::schemaBytes);
            } catch (RuntimeException e) {
              return -1L; // closed or unreachable: the health check says why
            }
          }
        });
  }

  private void gauge(String name, Gauge<Long> g) {
    String full = metricPrefix + "." + name;
    metrics.remove(full);
    metrics.register(full, g);
  }

  // ---- for the stores ----

  Clock clock() {
    return clock;
  }

  PostgresSettings settings() {
    return settings;
  }

  PostgresErrors errors() {
    return errors;
  }

  PostgresPool pool() {
    return pool;
  }

  /**
   * Seals and opens values, payloads and chunks through the context's encryption hook, bound to
   * their place ({@link io.cairn.persistence.spi.AssociatedData}); copies in clear when off.
   */
  Sealer sealer() {
    return sealer;
  }

  /** A version for a key-value write: {@link PostgresVersions#next}. */
  long nextVersion(Connection c, boolean fresh) throws SQLException {
    return versions.next(c, fresh);
  }

  /** After an import wrote versions up to {@code imported}: {@link PostgresVersions#imported}. */
  void versionsImported(Connection c, long imported) throws SQLException {
    versions.imported(c, imported);
  }

  /** Runs {@code work} on a pooled connection in autocommit mode (one statement, one commit). */
  <T> T call(String op, Object where, PostgresPool.SqlWork<T> work) {
    return pool.call(op, where, work);
  }

  /** Runs {@code work} in one transaction on a pooled connection. */
  <T> T transaction(String op, Object where, PostgresPool.SqlWork<T> work) {
    return pool.transaction(op, where, work);
  }

  /** Same as transaction(), serialised with inTransaction (putAll is a multi-key transaction). */
  <T> T serialisedTransaction(String op, Object where, PostgresPool.SqlWork<T> work) {
    return pool.serialisedTransaction(op, where, work);
  }

  /** A scan holding a connection until it ends: {@link PostgresPool#openScan}. */
  CloseableIterator<Entry> openScan(
      String where, PostgresPool.QueryBuilder query, PostgresPool.RowReader reader) {
    return pool.openScan(where, query, reader);
  }

  /** Deletes expired entries of {@code ns} (all namespaces if null) in bounded batches. */
  long purgeExpired(String ns) {
    return maintenance.purgeExpired(ns);
  }

  // ---- StorageBackend ----

  @Override
  public String name() {
    return ctx.name();
  }

  @Override
  public String type() {
    return PostgresBackendProvider.TYPE;
  }

  @Override
  public Durability durability() {
    return ctx.durability();
  }

  @Override
  public Set<Capability> capabilities() {
    return Collections.unmodifiableSet(
        EnumSet.of(
            Capability.DURABLE,
            Capability.MULTI_PROCESS,
            Capability.LARGE_SNAPSHOTS,
            Capability.ENCRYPTION));
  }

  @Override
  public KeyValueStore keyValue(String namespace) {
    ensureOpen();
    ArgumentChecks.check(StoreKind.KEY_VALUE, namespace);
    return kvStores.computeIfAbsent(namespace, n -> new PostgresKeyValueStore(this, n));
  }

  @Override
  public LogStore log(String name) {
    ensureOpen();
    ArgumentChecks.check(StoreKind.LOG, name);
    return logStores.computeIfAbsent(name, n -> new PostgresLogStore(this, n));
  }

  @Override
  public SnapshotStore snapshots(String name) {
    ensureOpen();
    ArgumentChecks.check(StoreKind.SNAPSHOT, name);
    return snapshotStores.computeIfAbsent(name, n -> new PostgresSnapshotStore(this, n));
  }

  private void ensureOpen() {
    guard.ensureOpen();
  }

  @Override
  public <T> T inTransaction(Transaction.Work<T> work) {
    java.util.Objects.requireNonNull(work, "work");
    return pool.serialisedTransaction(
        "transaction",
        null,
        c -> {
          PostgresTransaction tx = new PostgresTransaction(this, c);
          try {
            return work.run(tx);
          } finally {
            tx.end();
          }
        });
  }

  /**
   * Re-encrypts under the primary key in place, in small transactions; see {@link PostgresReseal}.
   */
  @Override
  public io.cairn.persistence.ResealReport reseal(Progress progress) {
    ensureOpen();
    if (!sealer.enabled()) {
      return StorageBackend.super.reseal(progress); // names the backend: it does not encrypt
    }
    return PostgresReseal.run(this, java.util.Objects.requireNonNull(progress, "progress"));
  }

  // ---- the encryption key check record (KeyCheckStore): table cairn_keycheck, one row ----

  @Override
  public java.util.Optional<byte[]> readKeyCheck() {
    return pool.call(
        "read the key check record",
        keyCheckLocation(),
        c -> {
          try (Statement st = c.createStatement();
              ResultSet rs = st.executeQuery("SELECT record FROM cairn_keycheck WHERE id = 1")) {
            return rs.next() ? java.util.Optional.of(rs.getBytes(1)) : java.util.Optional.empty();
          }
        });
  }

  @Override
  public byte[] createKeyCheck(byte[] record) {
    return pool.call(
        "write the key check record",
        keyCheckLocation(),
        c -> {
          // of several processes opening a new schema at once, the first insert wins; the select,
          // a later statement, sees whichever committed
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO cairn_keycheck (id, record) VALUES (1, ?)"
                      + " ON CONFLICT (id) DO NOTHING")) {
            ps.setBytes(1, record);
            ps.executeUpdate();
          }
          try (Statement st = c.createStatement();
              ResultSet rs = st.executeQuery("SELECT record FROM cairn_keycheck WHERE id = 1")) {
            if (!rs.next()) {
              throw new SQLException("the key check record vanished right after it was written");
            }
            return rs.getBytes(1);
          }
        });
  }

  @Override
  public void replaceKeyCheck(byte[] record) {
    pool.call(
        "replace the key check record",
        keyCheckLocation(),
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO cairn_keycheck (id, record) VALUES (1, ?) ON CONFLICT (id)"
                      + " DO UPDATE SET record = EXCLUDED.record, updated_at = now()")) {
            ps.setBytes(1, record);
            ps.executeUpdate();
          }
          return null;
        });
  }

  /** One statement, so processes sharing the schema never both reserve one message block. */
  @Override
  public boolean compareAndReplaceKeyCheck(byte[] expected, byte[] record) {
    return pool.call(
        "update the key check record",
        keyCheckLocation(),
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE cairn_keycheck SET record = ?, updated_at = now()"
                      + " WHERE id = 1 AND record = ?")) {
            ps.setBytes(1, record);
            ps.setBytes(2, expected);
            return ps.executeUpdate() == 1;
          }
        });
  }

  @Override
  public String keyCheckLocation() {
    return "table cairn_keycheck of " + describe;
  }

  // ---- listing, stats, verify, compact: PostgresCatalog, PostgresVerify, PostgresMaintenance ----

  @Override
  public SortedSet<StoreId> stores() {
    return PostgresCatalog.stores(pool);
  }

  @Override
  public BackendStats stats() {
    return PostgresCatalog.stats(pool, name(), settings, serverFacts);
  }

  /** See {@link PostgresVerify}. */
  @Override
  public VerifyReport verify(Progress progress) {
    return PostgresVerify.run(this, progress);
  }

  /**
   * Purges expired entries, then runs {@code VACUUM (ANALYZE)} on Cairn's tables: dead rows' space
   * becomes reusable and the planner's statistics are fresh. It does not give space back to the
   * operating system (that needs {@code VACUUM FULL}, which locks the tables exclusively; run it in
   * a maintenance window if wanted).
   */
  @Override
  public void compact(Progress progress) {
    maintenance.compact(progress);
  }

  @Override
  public HealthCheck.Result health() {
    if (guard.isClosed()) {
      return HealthCheck.Result.unhealthy(describe + " is closed");
    }
    if (serverFsyncOff && ctx.durability() != Durability.NONE) {
      return HealthCheck.Result.unhealthy(
          describe
              + ": the server runs with fsync = off, so durability = "
              + ctx.durability().configName()
              + " is not kept");
    }
    String down = errors.lastUnavailable();
    if (down != null) {
      return HealthCheck.Result.unhealthy(down);
    }
    return HealthCheck.Result.healthy(
        describe
            + " is open (durability "
            + ctx.durability().configName()
            + ", synchronous_commit = "
            + synchronousCommit(ctx.durability())
            + ", PostgreSQL "
            + serverFacts
            + ")");
  }

  /**
   * {@link io.cairn.persistence.LeasedQueueStore} (PostgresQueueStore), {@link
   * io.cairn.persistence.Importer} (PostgresImporter) and {@link
   * io.cairn.persistence.ChangeNotifications}: LISTEN/NOTIFY (PostgresNotifications).
   */
  @Override
  public <T> java.util.Optional<T> extension(Class<T> type) {
    if (type == io.cairn.persistence.LeasedQueueStore.class) {
      return java.util.Optional.of(type.cast(queues));
    }
    if (type == io.cairn.persistence.Importer.class) {
      ensureOpen();
      return java.util.Optional.of(type.cast(new PostgresImporter(this)));
    }
    if (type == io.cairn.persistence.ChangeNotifications.class) {
      synchronized (this) {
        if (notifications == null && !guard.isClosed()) {
          notifications =
              new PostgresNotifications(
                  ctx.name(),
                  describe,
                  settings.schema(),
                  PostgresNotifications.publisher(this),
                  PostgresNotifications.connector(settings, ctx.name()),
                  settings.connectTimeout().toMillis());
        }
        return java.util.Optional.ofNullable(type.cast(notifications));
      }
    }
    return StorageBackend.super.extension(type);
  }

  /**
   * Refuses new calls, stops notifications, waits for calls in flight ({@link CallGuard#drain}),
   * then ends open scans, stops the sweeper and closes the pool. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (!guard.markClosed()) {
        return;
      }
      if (notifications != null) {
        notifications.close(); // its own connection and threads, not the pool's
      }
    }
    try {
      guard.drain(
          () -> {
            maintenance.close();
            pool.close();
          });
    } finally {
      metrics.removeMatching((n, m) -> n.startsWith(metricPrefix + "."));
    }
  }

  @Override
  public String toString() {
    return describe;
  }
}
