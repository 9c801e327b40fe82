package io.cairn.backend.postgres;

import com.codahale.metrics.CachedGauge;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheck;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Capability;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.KeyCheckStore;
import io.cairn.persistence.spi.Sealer;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
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
 * Each operation borrows a connection for its duration; a transaction holds one for the work; an
 * open scan holds one until it is exhausted or closed (its server-side cursor lives in a
 * transaction on that connection), so at most {@code pool-size} scans and transactions run at once
 * and further operations wait up to {@code connect-timeout} for a connection. Close scans.
 *
 * <p>Thread-safe. Owns the pool and one daemon sweeper thread; both are released by {@link
 * #close()}.
 */
final class PostgresBackend implements StorageBackend, KeyCheckStore {
  private static final Logger log = LoggerFactory.getLogger(PostgresBackend.class);

  /** Work on one connection. */
  @FunctionalInterface
  interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  private final BackendContext ctx;
  private final PostgresSettings settings;
  private final HikariDataSource pool;
  private final PostgresErrors errors;
  private final Sealer sealer;
  private final Clock clock;
  private final MetricRegistry metrics;
  private final String metricPrefix;
  private final String describe;
  private final String serverFacts;
  private final boolean serverFsyncOff;
  private final ScheduledExecutorService sweeper;
  private final Map<String, PostgresKeyValueStore> kvStores = new ConcurrentHashMap<>();
  private final Map<String, PostgresLogStore> logStores = new ConcurrentHashMap<>();
  private final Map<String, PostgresSnapshotStore> snapshotStores = new ConcurrentHashMap<>();
  private final Set<Scan> openScans = ConcurrentHashMap.newKeySet();
  private final PostgresQueueStore queues;

  /** Operations hold the read lock; close takes the write lock, so it waits for them. */
  private final ReentrantReadWriteLock inFlight = new ReentrantReadWriteLock();

  private volatile boolean closed;
  private PostgresNotifications
      notifications; // created at the first extension() ask; guarded by this

  // the current block of versions from kv_version: [nextVersion, versionLimit)
  private long nextVersion;
  private long versionLimit;
  // the highest version an import wrote through this backend (PostgresImporter); guarded by this
  private long importedFloor;

  private PostgresBackend(
      BackendContext ctx,
      PostgresSettings settings,
      HikariDataSource pool,
      String describe,
      String serverFacts,
      boolean serverFsyncOff) {
    this.ctx = ctx;
    this.settings = settings;
    this.pool = pool;
    this.describe = describe;
    this.serverFacts = serverFacts;
    this.serverFsyncOff = serverFsyncOff;
    this.errors = new PostgresErrors(ctx.name(), describe, () -> closed);
    this.sealer = Sealer.of(ctx);
    this.queues = new PostgresQueueStore(this, sealer);
    this.clock = ctx.clock();
    this.metrics = ctx.metrics();
    this.metricPrefix = ctx.metricPrefix() + ".postgres";
    registerGauges();
    if (!settings.sweeperInterval().isZero()) {
      this.sweeper =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "cairn-postgres-sweeper-" + ctx.name());
                t.setDaemon(true);
                return t;
              });
      long period = settings.sweeperInterval().toMillis();
      sweeper.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    } else {
      this.sweeper = null;
    }
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
    HikariConfig hc = new HikariConfig();
    hc.setPoolName("cairn-postgres-" + ctx.name());
    hc.setJdbcUrl(settings.jdbcUrl());
    if (!settings.user().isEmpty()) {
      hc.setUsername(settings.user());
    }
    String password = settings.passwordSource().read(System::getenv);
    if (password != null) {
      hc.setPassword(password);
    }
    hc.setMaximumPoolSize(settings.poolSize());
    hc.setMinimumIdle(Math.min(2, settings.poolSize()));
    long connectMillis = settings.connectTimeout().toMillis();
    hc.setConnectionTimeout(connectMillis);
    // also the socket timeout while Hikari sets a new connection up: on a loaded machine 5s was
    // seen to pass, closing a healthy connection
    hc.setValidationTimeout(Math.max(250, connectMillis));
    hc.setInitializationFailTimeout(connectMillis);
    hc.addDataSourceProperty(
        "connectTimeout", String.valueOf(Math.max(1, (connectMillis + 999) / 1000)));
    hc.addDataSourceProperty("tcpKeepAlive", "true");
    hc.addDataSourceProperty("ApplicationName", "cairn " + ctx.name());
    // Server error details and failed batch entries quote the row (keys, values): keep stored
    // data out of exception messages and logs.
    hc.addDataSourceProperty("logServerErrorDetail", "false");
    hc.setConnectionInitSql(
        "SET search_path TO "
            + settings.schema()
            + "; SET synchronous_commit TO "
            + synchronousCommit(ctx.durability()));
    HikariDataSource pool;
    try {
      pool = new HikariDataSource(hc);
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() instanceof SQLException ? e.getCause() : e;
      throw new PostgresUnavailableException(
          "Cannot open "
              + describe
              + ": no connection within connect-timeout "
              + io.cairn.persistence.spi.Settings.human(settings.connectTimeout())
              + ": "
              + cause.getMessage()
              + ". Check jdbc-url, user and password, and that the server is running and"
              + " reachable; opening again later may succeed.",
          e);
    }
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
          facts = one(st, "SHOW server_version");
          fsyncOff = "off".equals(one(st, "SHOW fsync"));
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

  private static String one(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private void registerGauges() {
    HikariPoolMXBean bean = pool.getHikariPoolMXBean();
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
              return call("schema size", null, PostgresBackend::schemaBytes);
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

  private static long schemaBytes(Connection c) throws SQLException {
    StringBuilder sql = new StringBuilder("SELECT 0");
    for (String t : PostgresSchema.TABLES) {
      sql.append(" + pg_total_relation_size(to_regclass('").append(t).append("'))");
    }
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql.toString())) {
      rs.next();
      return rs.getLong(1);
    }
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

  /**
   * Seals and opens values, payloads and chunks through the context's encryption hook, bound to
   * their place ({@link io.cairn.persistence.spi.AssociatedData}); copies in clear when off.
   */
  Sealer sealer() {
    return sealer;
  }

  /**
   * A version from the current block, or from a fresh block of {@code kv_version} when the block is
   * used up or {@code fresh} is set. A fresh block starts above every version any process was
   * handed before it.
   */
  long nextVersion(Connection c, boolean fresh) throws SQLException {
    synchronized (this) {
      if (!fresh && nextVersion < versionLimit && nextVersion > importedFloor) {
        return nextVersion++;
      }
    }
    while (true) {
      long start;
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT nextval('kv_version')")) {
        rs.next();
        start = rs.getLong(1);
      }
      synchronized (this) {
        if (start > nextVersion) {
          nextVersion = start;
          versionLimit = start + PostgresSchema.VERSION_BLOCK;
        }
        if (nextVersion > importedFloor) {
          return nextVersion++;
        }
        // a block taken before an import raised the sequence: the next one is above the import
      }
    }
  }

  /**
   * Raises {@code kv_version} after an import wrote versions up to {@code imported} that the
   * sequence never handed out, so that every block handed out afterwards, in any process, starts
   * above them; from then on this process hands out no version at or below {@code imported} (its
   * current block, or one taken by another thread before the raise, may lie below). Never lowers
   * the sequence: it is set only if its last value is at most {@code imported}, to {@code imported}
   * plus a margin of {@link #IMPORT_VERSION_MARGIN} versions. The margin covers the blocks that
   * other processes may take between the statement's read of the last value and its {@code setval}
   * (microseconds; up to a thousand blocks), so no block handed out in that window is handed out
   * again. A raise from a transaction that rolls back stays (sequences are not transactional): it
   * only skips versions, which is allowed. Other processes' current blocks may lie below {@code
   * imported}; their writes are conditional on the stored version being lower (see {@link
   * PostgresKeyValueStore}), so a write to an imported key takes a fresh block, above the import.
   */
  void versionsImported(Connection c, long imported) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT setval('kv_version', ?, true) FROM kv_version WHERE last_value <= ?")) {
      ps.setLong(1, Math.addExact(imported, IMPORT_VERSION_MARGIN));
      ps.setLong(2, imported);
      ps.execute();
    }
    synchronized (this) {
      // after the raise: from now on no version at or below the import is handed out here
      importedFloor = Math.max(importedFloor, imported);
    }
  }

  /** See {@link #versionsImported}: a thousand version blocks. */
  static final long IMPORT_VERSION_MARGIN = 1000L * PostgresSchema.VERSION_BLOCK;

  private void enter() {
    if (closed) {
      throw errors.closedException();
    }
    inFlight.readLock().lock();
    if (closed) {
      inFlight.readLock().unlock();
      throw errors.closedException();
    }
  }

  private void exit() {
    inFlight.readLock().unlock();
  }

  /** Runs {@code work} on a pooled connection in autocommit mode (one statement, one commit). */
  <T> T call(String op, Object where, SqlWork<T> work) {
    enter();
    try (Connection c = pool.getConnection()) {
      T result = work.run(c);
      errors.succeeded();
      return result;
    } catch (SQLException e) {
      throw errors.translate(e, op, where, false);
    } finally {
      exit();
    }
  }

  /** Runs {@code work} in one transaction on a pooled connection. */
  <T> T transaction(String op, Object where, SqlWork<T> work) {
    return transaction(op, where, false, work);
  }

  private <T> T transaction(String op, Object where, boolean serialise, SqlWork<T> work) {
    enter();
    boolean committing = false;
    try (Connection c = pool.getConnection()) {
      boolean locked = false;
      try {
        if (serialise) {
          advisory(c, "pg_advisory_lock");
          locked = true;
        }
        c.setAutoCommit(false);
        T result;
        try {
          result = work.run(c);
          committing = true;
          c.commit();
        } catch (SQLException | RuntimeException | Error e) {
          if (!committing) {
            rollbackQuietly(c, e);
          }
          throw e;
        }
        errors.succeeded();
        return result;
      } finally {
        if (locked) {
          unlockQuietly(c);
        }
      }
    } catch (SQLException e) {
      throw errors.translate(e, op, where, committing);
    } finally {
      exit();
    }
  }

  private void advisory(Connection c, String function) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + function + "(?, ?)")) {
      ps.setInt(1, PostgresSchema.LOCK_CLASS_TX);
      ps.setInt(2, PostgresSchema.lockKey(settings.schema()));
      ps.execute();
    }
  }

  private void unlockQuietly(Connection c) {
    try {
      if (!c.getAutoCommit()) {
        c.rollback(); // a failed commit leaves nothing to roll back; the unlock needs a statement
        c.setAutoCommit(true);
      }
      advisory(c, "pg_advisory_unlock");
    } catch (SQLException e) {
      // The session lock goes with the session: make the pool drop this connection.
      log.debug("{}: could not release the transaction lock: {}", describe, e.toString());
      try {
        c.abort(Runnable::run);
      } catch (SQLException ignored) {
        // already broken
      }
    }
  }

  private static void rollbackQuietly(Connection c, Throwable cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
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
    if (closed) {
      throw errors.closedException();
    }
  }

  @Override
  public <T> T inTransaction(Transaction.Work<T> work) {
    java.util.Objects.requireNonNull(work, "work");
    return transaction(
        "transaction",
        null,
        true,
        c -> {
          PostgresTransaction tx = new PostgresTransaction(this, c);
          try {
            return work.run(tx);
          } finally {
            tx.end();
          }
        });
  }

  /** Same as transaction(), serialised with inTransaction (putAll is a multi-key transaction). */
  <T> T serialisedTransaction(String op, Object where, SqlWork<T> work) {
    return transaction(op, where, true, work);
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
    return call(
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
    return call(
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
    call(
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

  @Override
  public String keyCheckLocation() {
    return "table cairn_keycheck of " + describe;
  }

  // ---- scans: a server-side cursor in a transaction on a connection held by the iterator ----

  /** Builds the scan's query on the scan's connection. */
  @FunctionalInterface
  interface QueryBuilder {
    PreparedStatement prepare(Connection c) throws SQLException;
  }

  /** Turns a row into an entry, or null to skip it (expired). */
  @FunctionalInterface
  interface RowReader {
    Entry read(ResultSet rs, long now) throws SQLException;
  }

  CloseableIterator<Entry> openScan(String where, QueryBuilder query, RowReader reader) {
    enter();
    try {
      Connection c = pool.getConnection();
      try {
        c.setAutoCommit(false); // pgjdbc streams with a cursor only inside a transaction
        c.setReadOnly(true);
        PreparedStatement ps = query.prepare(c);
        ps.setFetchSize(settings.scanFetchSize());
        ResultSet rs = ps.executeQuery();
        Scan scan = new Scan(where, c, ps, rs, reader, clock.millis());
        openScans.add(scan);
        return scan;
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException ignored) {
          // the connection goes back to the pool, which resets or discards it
        }
        c.close();
        throw e;
      }
    } catch (SQLException e) {
      throw errors.translate(e, "scan", where, false);
    } finally {
      exit();
    }
  }

  private final class Scan implements CloseableIterator<Entry> {
    private final String where;
    private final Connection c;
    private final PreparedStatement ps;
    private final ResultSet rs;
    private final RowReader reader;
    private final long now;
    private Entry next;
    private boolean done;

    Scan(
        String where,
        Connection c,
        PreparedStatement ps,
        ResultSet rs,
        RowReader reader,
        long now) {
      this.where = where;
      this.c = c;
      this.ps = ps;
      this.rs = rs;
      this.reader = reader;
      this.now = now;
    }

    @Override
    public synchronized boolean hasNext() {
      if (next != null) {
        return true;
      }
      if (done) {
        if (closed) {
          throw errors.closedException();
        }
        return false;
      }
      enter();
      try {
        while (rs.next()) {
          Entry e = reader.read(rs, now);
          if (e != null) {
            next = e;
            return true;
          }
        }
        release();
        return false;
      } catch (SQLException e) {
        release();
        throw errors.translate(e, "scan", where, false);
      } catch (RuntimeException e) {
        release();
        throw e;
      } finally {
        exit();
      }
    }

    @Override
    public synchronized Entry next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      Entry e = next;
      next = null;
      return e;
    }

    /** Ends the cursor's transaction and returns the connection; idempotent. */
    synchronized void release() {
      if (done) {
        return;
      }
      done = true;
      openScans.remove(this);
      try {
        rs.close();
        ps.close();
        c.rollback();
      } catch (SQLException e) {
        log.debug("{}: closing a scan: {}", describe, e.toString());
      } finally {
        try {
          c.close();
        } catch (SQLException e) {
          log.debug("{}: returning a scan's connection: {}", describe, e.toString());
        }
      }
    }

    @Override
    public void close() {
      next = null;
      release();
    }
  }

  // ---- listing, stats, verify, compact ----

  /** Distinct values of the leading primary-key column, skipping through the index. */
  private static final String DISTINCT =
      "WITH RECURSIVE d(v) AS (SELECT min(%2$s) FROM %1$s UNION ALL"
          + " SELECT (SELECT min(%2$s) FROM %1$s WHERE %2$s > d.v) FROM d WHERE d.v IS NOT NULL)"
          + " SELECT v FROM d WHERE v IS NOT NULL";

  @Override
  public SortedSet<StoreId> stores() {
    return call(
        "list stores",
        null,
        c -> {
          SortedSet<StoreId> out = new TreeSet<>();
          addNames(c, String.format(DISTINCT, "kv", "ns"), StoreKind.KEY_VALUE, out);
          addNames(c, "SELECT log FROM log_head", StoreKind.LOG, out);
          addNames(c, String.format(DISTINCT, "snapshot", "store"), StoreKind.SNAPSHOT, out);
          return Collections.unmodifiableSortedSet(out);
        });
  }

  private static void addNames(Connection c, String sql, StoreKind kind, SortedSet<StoreId> out)
      throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(new StoreId(kind, rs.getString(1)));
      }
    }
  }

  @Override
  public BackendStats stats() {
    return call(
        "stats",
        null,
        c -> {
          List<StoreStats> stores = new ArrayList<>();
          collect(
              c,
              "SELECT ns, count(*), sum(length(key) + length(value)) FROM kv GROUP BY ns",
              StoreKind.KEY_VALUE,
              stores);
          collect(
              c,
              "SELECT h.log, count(r.record_offset), coalesce(sum(length(r.payload)), 0)"
                  + " FROM log_head h LEFT JOIN log_record r ON r.log = h.log GROUP BY h.log",
              StoreKind.LOG,
              stores);
          collect(
              c,
              "SELECT store, count(*), sum(size) FROM snapshot GROUP BY store",
              StoreKind.SNAPSHOT,
              stores);
          stores.sort((a, b) -> a.store().compareTo(b.store()));
          Map<String, String> props = new LinkedHashMap<>();
          try (Statement st = c.createStatement()) {
            props.put("server_version", serverFacts);
            props.put("synchronous_commit", one(st, "SHOW synchronous_commit"));
            props.put("fsync", one(st, "SHOW fsync"));
            props.put("wal_writer_delay", one(st, "SHOW wal_writer_delay"));
            props.put("database", one(st, "SELECT current_database()"));
            props.put("schema", settings.schema());
            props.put("schema_version", one(st, "SELECT version FROM cairn_schema WHERE id = 1"));
            props.put("pool_size", String.valueOf(settings.poolSize()));
            props.put(
                "pool_active", String.valueOf(pool.getHikariPoolMXBean().getActiveConnections()));
          }
          long bytes = schemaBytes(c);
          return new BackendStats(name(), type(), stores, bytes, props);
        });
  }

  private static void collect(Connection c, String sql, StoreKind kind, List<StoreStats> out)
      throws SQLException {
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(new StoreStats(new StoreId(kind, rs.getString(1)), rs.getLong(2), rs.getLong(3)));
      }
    }
  }

  /**
   * Checks every row checksum and Cairn's invariants (see {@link PostgresSchema}): kv rows, each
   * log's records exactly first_offset to next_offset - 1, each snapshot's index row against its
   * chunks, and every snapshot's data by loading it. Reads in one REPEATABLE READ transaction, so
   * the checks see one consistent state while the backend stays in use.
   */
  @Override
  public VerifyReport verify(Progress progress) {
    List<String> problems = new ArrayList<>();
    long checked;
    try {
      checked =
          transaction(
              "verify",
              null,
              c -> {
                c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
                c.setReadOnly(true);
                try (Statement st = c.createStatement()) {
                  st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
                }
                return verifyRows(c, problems, progress);
              });
    } catch (PersistenceException e) {
      problems.add(describe + ": " + e.getMessage());
      checked = 0;
    }
    checked += verifySnapshots(problems, progress);
    return new VerifyReport(name(), checked, problems);
  }

  private long verifyRows(Connection c, List<String> problems, Progress progress)
      throws SQLException {
    long rows = 0;
    try (PreparedStatement ps =
        c.prepareStatement("SELECT ns, key, value, version, expires_at, crc FROM kv")) {
      ps.setFetchSize(1000);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String ns = rs.getString(1);
          byte[] key = rs.getBytes(2);
          byte[] stored = rs.getBytes(3);
          try {
            PostgresKeyValueStore.checked(
                ns, key, rs.getLong(4), rs.getLong(5), stored, rs.getInt(6));
            sealer.openValue(ns, key, stored); // decryptability; the plaintext is dropped
          } catch (io.cairn.persistence.StoreCorruptedException e) {
            problems.add(
                "kv:"
                    + ns
                    + " key "
                    + io.cairn.persistence.spi.Bytes.toDisplay(key, sealer.enabled())
                    + ": "
                    + e.getMessage());
          }
          if (++rows % 10_000 == 0) {
            progress.report("kv checksums", rows, -1);
          }
        }
      }
    }
    Map<String, long[]> heads = new TreeMap<>();
    try (Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT log, first_offset, next_offset FROM log_head")) {
      while (rs.next()) {
        heads.put(rs.getString(1), new long[] {rs.getLong(2), rs.getLong(3)});
      }
    }
    Map<String, long[]> seen = new TreeMap<>(); // first, last
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT log, record_offset, payload, crc, appended_at FROM log_record ORDER BY log,"
                + " record_offset")) {
      ps.setFetchSize(1000);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String logName = rs.getString(1);
          long offset = rs.getLong(2);
          long[] e = seen.computeIfAbsent(logName, n -> new long[] {offset, offset - 1});
          if (offset != e[1] + 1) {
            problems.add(
                "log:"
                    + logName
                    + ": records "
                    + (e[1] + 1)
                    + " to "
                    + (offset - 1)
                    + " are missing (a gap inside the log)");
          }
          e[1] = offset;
          byte[] payload = rs.getBytes(3);
          if (PgChecksums.log(logName, offset, payload, rs.getLong(5)) != rs.getInt(4)) {
            problems.add("log:" + logName + " record " + offset + ": fails its checksum");
          } else {
            try {
              sealer.openPayload(logName, offset, payload); // decryptability, plaintext dropped
            } catch (io.cairn.persistence.StoreCorruptedException failed) {
              problems.add("log:" + logName + ": " + failed.getMessage());
            }
          }
          if (++rows % 10_000 == 0) {
            progress.report("log checksums", rows, -1);
          }
        }
      }
    }
    Set<String> names = new TreeSet<>(heads.keySet());
    names.addAll(seen.keySet());
    for (String logName : names) {
      long[] h = heads.get(logName);
      long[] e = seen.get(logName);
      String at = "log:" + logName + ": ";
      if (h == null) {
        problems.add(at + "has records but no log_head row (the head row was deleted)");
      } else if (e == null) {
        if (h[0] != h[1]) {
          problems.add(at + "records " + h[0] + " to " + (h[1] - 1) + " are missing (all of them)");
        }
      } else {
        if (e[0] < h[0]) {
          problems.add(at + "records below its first offset " + h[0] + " remain from " + e[0]);
        } else if (e[0] > h[0]) {
          problems.add(at + "records " + h[0] + " to " + (e[0] - 1) + " are missing");
        }
        if (e[1] + 1 < h[1]) {
          problems.add(
              at + "records " + (e[1] + 1) + " to " + (h[1] - 1) + " are missing (the tail)");
        } else if (e[1] + 1 > h[1]) {
          problems.add(
              at
                  + "records up to "
                  + e[1]
                  + " exist beyond its next offset "
                  + h[1]
                  + " (the head row is damaged; new appends would collide)");
        }
      }
    }
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT s.store, s.version, s.save_id, s.size, s.crc, s.created_at, s.chunks,"
                    + " s.row_crc, count(k.seq), min(k.seq), max(k.seq) FROM snapshot s"
                    + " LEFT JOIN snapshot_chunk k ON k.save_id = s.save_id"
                    + " GROUP BY s.store, s.version")) {
      while (rs.next()) {
        String store = rs.getString(1);
        long version = rs.getLong(2);
        int chunks = rs.getInt(7);
        String at = "snapshot:" + store + " version " + version + ": ";
        if (PgChecksums.snapshot(
                store, version, rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getLong(6), chunks)
            != rs.getInt(8)) {
          problems.add(at + "its index row fails its checksum");
          continue;
        }
        long found = rs.getLong(9);
        if (found != chunks
            || (chunks > 0 && (rs.getLong(10) != 0 || rs.getLong(11) != chunks - 1))) {
          problems.add(at + "its index lists " + chunks + " chunks but " + found + " are stored");
        }
      }
    }
    try (Statement st = c.createStatement();
        ResultSet rs =
            st.executeQuery(
                "SELECT count(*) FROM snapshot_chunk k WHERE NOT EXISTS"
                    + " (SELECT 1 FROM snapshot s WHERE s.save_id = k.save_id)")) {
      rs.next();
      if (rs.getLong(1) > 0) {
        problems.add(
            "snapshot_chunk: "
                + rs.getLong(1)
                + " chunks belong to no snapshot (rows were deleted outside Cairn)");
      }
    }
    return rows;
  }

  private long verifySnapshots(List<String> problems, Progress progress) {
    List<StoreId> sets;
    try {
      sets = stores().stream().filter(s -> s.kind() == StoreKind.SNAPSHOT).toList();
    } catch (PersistenceException e) {
      problems.add("snapshots: " + e.getMessage());
      return 0;
    }
    long done = 0;
    byte[] buf = new byte[64 * 1024];
    for (StoreId set : sets) {
      SnapshotStore store = snapshots(set.name());
      List<SnapshotInfo> infos;
      try {
        infos = store.list();
      } catch (PersistenceException e) {
        problems.add("snapshot:" + set.name() + ": " + e.getMessage());
        continue;
      }
      for (SnapshotInfo info : infos) {
        try (InputStream in = store.load(info.version())) {
          while (in.read(buf) >= 0) {
            // reading to the end checks every chunk, the length and the CRC-32C
          }
        } catch (NoSuchElementException gone) {
          continue; // deleted since listed
        } catch (PersistenceException | IOException e) {
          problems.add(
              "snapshot:" + set.name() + " version " + info.version() + ": " + e.getMessage());
        }
        progress.report("snapshots", ++done, -1);
      }
    }
    return done;
  }

  /**
   * Purges expired entries, then runs {@code VACUUM (ANALYZE)} on Cairn's tables: dead rows' space
   * becomes reusable and the planner's statistics are fresh. It does not give space back to the
   * operating system (that needs {@code VACUUM FULL}, which locks the tables exclusively; run it in
   * a maintenance window if wanted).
   */
  @Override
  public void compact(Progress progress) {
    ensureOpen();
    progress.report("purge-expired", 0, -1);
    long purged = purgeExpired(null);
    progress.report("purge-expired", purged, purged);
    int n = PostgresSchema.TABLES.size();
    for (int i = 0; i < n; i++) {
      String table = PostgresSchema.TABLES.get(i);
      progress.report("vacuum-analyze", i, n);
      call(
          "compact (VACUUM ANALYZE)",
          table,
          c -> {
            try (Statement st = c.createStatement()) {
              st.execute("VACUUM (ANALYZE) " + table); // autocommit: VACUUM needs it
            }
            return null;
          });
    }
    progress.report("vacuum-analyze", n, n);
  }

  /** Deletes expired entries of {@code ns} (all namespaces if null) in bounded batches. */
  long purgeExpired(String ns) {
    int batch = settings.sweeperBatch();
    long total = 0;
    while (true) {
      long now = clock.millis();
      int removed =
          call(
              "purgeExpired",
              ns == null ? "all namespaces" : "kv:" + ns,
              c -> {
                try (PreparedStatement ps =
                    c.prepareStatement(
                        "DELETE FROM kv WHERE ctid = ANY(ARRAY(SELECT ctid FROM kv"
                            + " WHERE expires_at <> 0 AND expires_at <= ?"
                            + (ns == null ? "" : " AND ns = ?")
                            + " LIMIT ? FOR UPDATE SKIP LOCKED))"
                            + " AND expires_at <> 0 AND expires_at <= ?")) {
                  int i = 1;
                  ps.setLong(i++, now);
                  if (ns != null) {
                    ps.setString(i++, ns);
                  }
                  ps.setInt(i++, batch);
                  ps.setLong(i, now);
                  return ps.executeUpdate();
                }
              });
      total += removed;
      if (removed < batch || closed) {
        return total;
      }
    }
  }

  private void sweep() {
    try {
      long n = purgeExpired(null);
      if (n > 0) {
        log.debug("{}: sweeper removed {} expired entries", describe, n);
      }
    } catch (RuntimeException e) {
      if (!closed) {
        log.warn("{}: the expiry sweeper failed and will retry: {}", describe, e.getMessage());
      }
    }
  }

  @Override
  public HealthCheck.Result health() {
    if (closed) {
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
        if (notifications == null && !closed) {
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

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      if (notifications != null) {
        notifications.close(); // its own connection and threads, not the pool's
      }
    }
    inFlight.writeLock().lock(); // waits for operations in flight
    try {
      for (Scan s : List.copyOf(openScans)) {
        s.release();
      }
      if (sweeper != null) {
        sweeper.shutdownNow();
        try {
          sweeper.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      pool.close();
    } finally {
      inFlight.writeLock().unlock();
      metrics.removeMatching((n, m) -> n.startsWith(metricPrefix + "."));
    }
  }

  @Override
  public String toString() {
    return describe;
  }
}
