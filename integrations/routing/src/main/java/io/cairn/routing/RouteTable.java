package io.cairn.routing;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheck;
import com.codahale.metrics.health.HealthCheckRegistry;
import io.cairn.persistence.Capability;
import io.cairn.persistence.ChangeNotifications;
import io.cairn.persistence.ClosedException;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.RetentionFloors;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VersionConflictException;
import io.cairn.persistence.spi.Settings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A durable table of routes: route key to {@link Route}, with exact and longest-prefix resolution
 * served from memory and every change recorded in a log on a {@link StorageBackend}.
 *
 * <h2>Reading</h2>
 *
 * {@link #get} (exact key) and {@link #resolve} (longest stored key that is a prefix of the given
 * key, by UTF-16 character; the empty key, if stored, matches everything) never touch storage: the
 * table is held in a {@link ConcurrentHashMap} updated under the write lock, and a longest-prefix
 * query probes it with the query's prefixes of the key lengths present, longest first, without
 * building substrings (see {@code RouteIndex}). Reads take no lock and may run concurrently with
 * writes; a read returns a route that was stored at some instant during the call.
 *
 * <h2>Writing</h2>
 *
 * {@link #put}, {@link #putAll} and {@link #remove} are serialised by one lock per table. A change
 * is appended to the log first and applied in memory only once the append returned (so it is as
 * durable as the backend's {@code durability}); then listeners are told. A change's log offset plus
 * one is its <em>version</em>: the {@link Route#version()} of the route it stored and the {@link
 * #version()} of the table after it. A put whose route equals the stored one in everything but the
 * version writes nothing and returns the stored route.
 *
 * <h2>Storage layout</h2>
 *
 * A table named {@code <name>} on backend {@code <backend>} (from {@code
 * cairn.route-tables.<name>}) uses two stores of that backend, both named {@code routing.<name>}:
 *
 * <pre>
 * log routing.&lt;name&gt;        one record per change, offset = version - 1
 *   record  := u8 format (=1) | u8 op | str key | [body if op = 1]
 *              op 1 = put (the route replaces any stored one), op 2 = remove
 *   body    := str policy-name | i32 n | n x (str address | i32 weight)
 *                              | i32 m | m x (str meta-key | str meta-value)   (sorted by meta-key)
 *   str     := i32 byte-length | UTF-8 bytes
 *
 * snapshots routing.&lt;name&gt;  snapshot version V = the log offset it covers up to (exclusive):
 *                           it holds the table after applying every change with offset &lt; V
 *   snapshot := "CRTS" | u8 format (=1) | i64 V | i64 count
 *               | count x (str key | i64 route-version | body)      (ascending by key)
 *               | i32 CRC-32C of every preceding byte of the snapshot
 * </pre>
 *
 * All integers are big-endian. The backend checksums log records and snapshots as well; the inner
 * CRC, magic, format byte, key order and covered-offset field let the table reject a snapshot that
 * the backend stored intact but that is not a valid table (e.g. written by something else).
 *
 * <h2>Snapshots and retention</h2>
 *
 * When {@code snapshot-every} changes have been applied since the last snapshot, the writer that
 * applied the last of them encodes the table (under the write lock, in memory) and, after releasing
 * the lock, saves it as version V = {@link #version()}. Then it deletes all but the newest {@code
 * retain-snapshots} snapshots and truncates the log before the oldest snapshot kept, so every
 * retained snapshot can still be replayed forward. A failed automatic snapshot is logged and shown
 * in the health check; the change that triggered it stays applied. {@link #snapshot()} takes one on
 * demand.
 *
 * <h2>Recovery (on open)</h2>
 *
 * <ol>
 *   <li>Snapshots are tried newest first. One is <em>unusable</em> when V is beyond the log's end
 *       (the log lost a tail it covered, possible under {@code durability = none}), when loading
 *       throws {@link StoreCorruptedException} (the backend's checksum) or when its contents fail
 *       the checks above. An unusable snapshot is logged at WARN and skipped: the table falls back
 *       to the next older one and replays a longer stretch of the log.
 *   <li>A snapshot with V below the log's first offset cannot be replayed forward (the changes in
 *       between were truncated); it and every older one are not used.
 *   <li>The log is replayed from V of the snapshot used (or from offset 0 when none is used) to its
 *       end. A record that does not decode, or a gap in offsets, throws {@link
 *       StoreCorruptedException}: the table does not open with changes missing.
 *   <li>If no snapshot could be used and the log no longer starts at offset 0, the history is gone
 *       and open throws {@link StoreCorruptedException}; restore the backend from a backup.
 *   <li>If any snapshot was unusable, or at least {@code snapshot-every} changes were replayed, a
 *       fresh snapshot is saved at once; then the unusable ones are deleted (never before a good
 *       snapshot newer than all of them exists) and retention and truncation run as above.
 * </ol>
 *
 * <p>Crash safety: a snapshot is saved (atomically, by the store's contract) before the log is
 * truncated, so a crash at any point leaves a snapshot plus the log after it. Listeners are not
 * told about replayed changes.
 *
 * <h2>Several instances on one backend ({@link Capability#MULTI_PROCESS})</h2>
 *
 * On a backend that several processes share (PostgreSQL), each process holds its own copy of the
 * table in memory and the log is the one order of changes:
 *
 * <ul>
 *   <li><b>Compare-and-append.</b> A write first catches up (applies the records other instances
 *       appended since this one's {@link #version()}), decides (compare-and-set, no-op put, remove
 *       of an absent key) on that state, then appends inside {@link StorageBackend#inTransaction}
 *       and commits only if the append got offset {@link #version()}; if another instance appended
 *       in between, the transaction is rolled back (nothing is written), the table catches up and
 *       the write is decided again. So a compare-and-set is exact across instances and every
 *       instance applies the same changes in the same order.
 *   <li><b>Following.</b> After each write an instance publishes the new version on {@link
 *       ChangeNotifications} channel {@code routing.<name>} (when the backend offers it); the
 *       others catch up from the log on receipt, so a route added on one instance resolves on the
 *       others within the notification latency plus one log read (milliseconds). Notifications are
 *       best effort: after a reconnect the table is told to resync and catches up fully, and a
 *       periodic check every {@code follow-interval} (default 5 s) compares the log's end with
 *       {@link #version()} and catches up, so a change is seen at the latest about {@code
 *       follow-interval} after it committed even if its notification was lost. If the log was
 *       truncated past this instance's version (another instance snapshotted while this one was far
 *       behind), it reloads the newest usable snapshot and replays from there. That holds also when
 *       the truncation lands between this instance's look at the log's start and its read (while
 *       catching up or while replaying at open): a read that skips past this instance's version of
 *       a log that now starts after it is taken as that truncation, not as a gap.
 *   <li>Listeners are told about changes caught up from other instances too, on the thread that
 *       caught up (a follower thread, or the writer that caught up before its write).
 *   <li>While the backend is unreachable, reads keep answering from memory, writes fail with the
 *       backend's (retriable) error, following fails quietly at DEBUG after one WARN and is shown
 *       in the health check; it resumes after the outage.
 * </ul>
 *
 * On a single-process backend none of this runs: appends are plain, and a log offset that does not
 * match the table's version is logged as an error (another writer, which the backend should have
 * prevented).
 *
 * <h2>Threads and lifecycle</h2>
 *
 * Thread-safe. One instance per table per process: opening a table that is already open (on the
 * same backend object) throws {@link IllegalStateException}. {@link #close()} is idempotent; after
 * it every method throws {@link ClosedException}. The table does not own its backend; the {@link
 * PersistenceRegistry} closes that. Metrics: gauges {@code cairn.route-tables.<name>.routes} and
 * {@code .version}; health check {@code cairn.route-tables.<name>}.
 */
public final class RouteTable implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RouteTable.class);
  private static final int REPLAY_BATCH = 1024;
  private static final long ANY_VERSION = -1;
  private static final Set<List<Object>> OPEN = ConcurrentHashMap.newKeySet();

  private final RoutingSettings settings;
  private final StorageBackend backend;
  private final LogStore changes;
  private final SnapshotStore snapshots;
  private final MetricRegistry metrics;
  private final HealthCheckRegistry healthChecks;
  private final String metricPrefix;
  private final List<Object> openKey;

  private final RouteIndex index = new RouteIndex();
  private final CopyOnWriteArrayList<RouteListener> listeners = new CopyOnWriteArrayList<>();
  private final ReentrantLock writeLock = new ReentrantLock();
  private final ReentrantLock snapshotLock = new ReentrantLock();

  private volatile long version; // log offset of the next change; written under writeLock
  private long lastSnapshotCovered; // guarded by writeLock
  private volatile boolean closed;
  private volatile String snapshotFailure; // last automatic snapshot failure, null if none

  /** Whether other processes may append to the log (see "Several instances"). */
  private final boolean shared;

  private volatile RouteFollower follower; // set after recovery on a shared backend; null otherwise

  private RouteTable(
      RoutingSettings settings,
      StorageBackend backend,
      MetricRegistry metrics,
      HealthCheckRegistry healthChecks) {
    this.settings = settings;
    this.backend = backend;
    this.changes = backend.log(settings.storeName());
    // the table truncates its log below its retained snapshots itself: keep retention off it
    backend
        .extension(RetentionFloors.class)
        .ifPresent(f -> f.register(settings.storeName(), () -> 0));
    this.snapshots = backend.snapshots(settings.storeName());
    this.metrics = metrics;
    this.healthChecks = healthChecks;
    this.metricPrefix = "cairn.route-tables." + settings.name();
    this.openKey = List.of(backend, settings.name());
    this.shared = backend.capabilities().contains(Capability.MULTI_PROCESS);
  }

  /**
   * Opens table {@code name} as configured under {@code cairn.route-tables.<name>} (defaults from
   * {@code cairn.route-table-defaults} when it is not configured) and recovers it from its backend
   * as described above. Blocks until recovery is complete.
   *
   * @throws io.cairn.persistence.ConfigurationException if the table's settings are invalid, with
   *     path and file:line of each problem
   * @throws StoreCorruptedException if the table cannot be recovered without losing changes
   * @throws IllegalStateException if the table is already open in this process
   */
  public static RouteTable open(PersistenceRegistry registry, String name) {
    return open(registry, name, Progress.NONE);
  }

  /**
   * As {@link #open(PersistenceRegistry, String)}, reporting recovery progress: phases {@code
   * load_snapshot} (done/total = snapshots tried/available) and {@code replay} (records replayed /
   * records to replay).
   */
  public static RouteTable open(PersistenceRegistry registry, String name, Progress progress) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(progress, "progress");
    List<ConfigProblem> problems = new ArrayList<>();
    RoutingSettings s = RoutingSettings.read(registry.config(), name, problems);
    Settings.throwIfAny(problems);
    return open(
        s, registry.backend(s.backend()), registry.metrics(), registry.healthChecks(), progress);
  }

  /** Opens the table of settings {@code s} on {@code backend} (tests hand in a wrapped backend). */
  static RouteTable open(
      RoutingSettings s,
      StorageBackend backend,
      MetricRegistry metrics,
      HealthCheckRegistry healthChecks,
      Progress progress) {
    String name = s.name();
    RouteTable table = new RouteTable(s, backend, metrics, healthChecks);
    if (!OPEN.add(table.openKey)) {
      throw new IllegalStateException(
          "Route table '"
              + name
              + "' on backend '"
              + s.backend()
              + "' is already open in this process; share that instance instead of opening a"
              + " second one");
    }
    try {
      table.recover(progress);
      table.registerMetrics();
      if (table.shared) {
        table.follower =
            new RouteFollower(
                new RouteFollower.Target() {
                  @Override
                  public long version() {
                    return table.version();
                  }

                  @Override
                  public long catchUp() {
                    return table.catchUp();
                  }
                },
                table.name(),
                table.backend.extension(ChangeNotifications.class).orElse(null),
                table.settings.storeName(),
                table.settings.followInterval(),
                table.describe());
        table.follower.start();
      }
      return table;
    } catch (RuntimeException e) {
      OPEN.remove(table.openKey);
      table.closed = true;
      throw e;
    }
  }

  /** The table's name (the key under {@code cairn.routing}). */
  public String name() {
    return settings.name();
  }

  /** Name of the backend holding the table. */
  public String backendName() {
    return backend.name();
  }

  // ---------------------------------------------------------------- reads

  /** The route stored under exactly {@code key}. No I/O. */
  public Optional<Route> get(String key) {
    Objects.requireNonNull(key, "key");
    ensureOpen();
    return Optional.ofNullable(index.get(key));
  }

  /**
   * The route whose key is the longest prefix of {@code key} (including {@code key} itself); its
   * {@link Route#key()} is the matched prefix. No I/O.
   */
  public Optional<Route> resolve(String key) {
    Objects.requireNonNull(key, "key");
    ensureOpen();
    return Optional.ofNullable(index.longestPrefix(key));
  }

  /** Number of routes. */
  public int size() {
    ensureOpen();
    return index.size();
  }

  /**
   * A consistent copy of the whole table, sorted by key, as of one version. Takes the write lock
   * briefly and copies every entry; for operators and tests, not for the request path.
   */
  public NavigableMap<String, Route> routes() {
    writeLock.lock();
    try {
      ensureOpen();
      return Collections.unmodifiableNavigableMap(index.sorted());
    } finally {
      writeLock.unlock();
    }
  }

  /**
   * The version of the table: the version of the last change applied (0 for a table that never
   * changed). Equal to the offset its next change will get in the log.
   */
  public long version() {
    return version;
  }

  // ---------------------------------------------------------------- writes

  /**
   * Stores {@code route} under {@link Route#key()}, replacing any route there, once the change is
   * durable. Returns the stored route carrying its new version (or the stored route unchanged if it
   * already had the same content).
   *
   * @throws IllegalStateException if called from inside a {@link RouteListener}
   */
  public Route put(Route route) {
    return write(route, ANY_VERSION);
  }

  /**
   * Compare-and-set: stores {@code route} only if the route stored under its key has version {@code
   * expectedVersion} (0 = no route stored).
   *
   * @throws VersionConflictException if the stored version differs; nothing is written
   */
  public Route put(Route route, long expectedVersion) {
    if (expectedVersion < 0) {
      throw new IllegalArgumentException("expectedVersion must be >= 0, got " + expectedVersion);
    }
    return write(route, expectedVersion);
  }

  private Route write(Route route, long expectedVersion) {
    Objects.requireNonNull(route, "route");
    PendingSnapshot pending;
    Route stored;
    lockForWrite();
    try {
      while (true) {
        catchUpIfShared();
        Route previous = index.get(route.key());
        if (expectedVersion != ANY_VERSION) {
          long actual = previous == null ? 0 : previous.version();
          if (actual != expectedVersion) {
            throw new VersionConflictException(
                describe() + " key '" + route.key() + "'", expectedVersion, actual);
          }
        }
        if (previous != null && previous.sameContent(route)) {
          return previous;
        }
        long offset = append(List.of(RouteFormat.encodePut(route)));
        if (offset < 0) {
          continue; // another instance appended first: nothing written, decide again
        }
        stored = route.withVersion(offset + 1);
        applyAndNotify(route.key(), previous, stored, offset);
        pending = maybeCapture();
        break;
      }
    } finally {
      writeLock.unlock();
    }
    published();
    saveAutomatic(pending);
    return stored;
  }

  /**
   * Stores every route in one atomic log append (all or none become durable) and applies them in
   * order; a key given twice ends with the later route. Returns the stored routes in input order.
   */
  public List<Route> putAll(Collection<Route> routes) {
    Objects.requireNonNull(routes, "routes");
    List<Route> input = new ArrayList<>(routes);
    input.forEach(r -> Objects.requireNonNull(r, "route"));
    PendingSnapshot pending;
    List<Route> result = new ArrayList<>(input.size());
    boolean wrote;
    lockForWrite();
    try {
      while (true) {
        catchUpIfShared();
        // Work out which entries change, against the table as it evolves through the batch.
        Map<String, Route> view = new HashMap<>();
        List<Route> toWrite = new ArrayList<>();
        List<byte[]> payloads = new ArrayList<>();
        for (Route r : input) {
          Route current = view.containsKey(r.key()) ? view.get(r.key()) : index.get(r.key());
          if (current != null && current.sameContent(r)) {
            continue;
          }
          view.put(r.key(), r);
          toWrite.add(r);
          payloads.add(RouteFormat.encodePut(r));
        }
        Map<String, Route> stored = new HashMap<>();
        wrote = !payloads.isEmpty();
        if (wrote) {
          long first = append(payloads);
          if (first < 0) {
            continue; // another instance appended first: nothing written, decide again
          }
          for (int i = 0; i < toWrite.size(); i++) {
            Route r = toWrite.get(i).withVersion(first + i + 1);
            applyAndNotify(r.key(), index.get(r.key()), r, first + i);
            stored.put(r.key(), r);
          }
        }
        for (Route r : input) {
          Route s = stored.get(r.key());
          result.add(s != null ? s : index.get(r.key()));
        }
        pending = maybeCapture();
        break;
      }
    } finally {
      writeLock.unlock();
    }
    if (wrote) {
      published();
    }
    saveAutomatic(pending);
    return result;
  }

  /**
   * Removes the route stored under exactly {@code key}, once the change is durable, and returns it;
   * writes nothing and returns empty if there is none.
   */
  public Optional<Route> remove(String key) {
    Objects.requireNonNull(key, "key");
    PendingSnapshot pending;
    Route previous;
    lockForWrite();
    try {
      while (true) {
        catchUpIfShared();
        previous = index.get(key);
        if (previous == null) {
          return Optional.empty();
        }
        long offset = append(List.of(RouteFormat.encodeRemove(key)));
        if (offset < 0) {
          continue; // another instance appended first: nothing written, decide again
        }
        applyAndNotify(key, previous, null, offset);
        pending = maybeCapture();
        break;
      }
    } finally {
      writeLock.unlock();
    }
    published();
    saveAutomatic(pending);
    return Optional.of(previous);
  }

  /** Adds a listener for changes made from now on. */
  public void addListener(RouteListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Removes a listener; returns whether it was registered. */
  public boolean removeListener(RouteListener listener) {
    return listeners.remove(listener);
  }

  /**
   * Saves a snapshot of the table now, then applies retention and log truncation. Returns the
   * snapshot's version (the table version it covers). Saves nothing and returns that version if the
   * newest snapshot already covers it.
   *
   * @throws PersistenceException if the snapshot cannot be saved
   */
  public long snapshot() {
    PendingSnapshot pending;
    lockForWrite();
    try {
      if (lastSnapshotCovered == version && snapshotExists(version)) {
        return version;
      }
      pending = capture();
    } finally {
      writeLock.unlock();
    }
    save(pending, Set.of());
    return pending.covered;
  }

  /** Stops the table; the backend stays open. Idempotent. */
  @Override
  public void close() {
    writeLock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
    } finally {
      writeLock.unlock();
    }
    if (follower != null) {
      follower.close();
    }
    metrics.remove(metricPrefix + ".routes");
    metrics.remove(metricPrefix + ".version");
    healthChecks.unregister(metricPrefix);
    listeners.clear();
    OPEN.remove(openKey);
    log.debug("Closed {}", describe());
  }

  @Override
  public String toString() {
    return describe() + " (" + index.size() + " routes, version " + version + ")";
  }

  // ---------------------------------------------------------------- internals

  private String describe() {
    return "route table '"
        + settings.name()
        + "' (log and snapshots '"
        + settings.storeName()
        + "' on backend '"
        + backend.name()
        + "')";
  }

  private void ensureOpen() {
    if (closed) {
      throw new ClosedException(
          "route table '" + settings.name() + "' on backend '" + backend.name() + "'",
          "open it again with RouteTable.open or RouteTables");
    }
  }

  private void lockForWrite() {
    if (writeLock.isHeldByCurrentThread()) {
      throw new IllegalStateException(
          "A RouteListener of "
              + describe()
              + " tried to change the table; listeners must not write to the table they observe");
    }
    writeLock.lock();
    if (closed) {
      writeLock.unlock();
      ensureOpen();
    }
  }

  /** Applies one change in memory and tells listeners. Caller holds the write lock. */
  private void applyAndNotify(String key, Route previous, Route current, long offset) {
    if (offset != version) {
      log.error(
          "{}: change got log offset {} but {} was expected; another writer appended to the log"
              + " of a backend that is not declared MULTI_PROCESS. Reopen the table to see its"
              + " changes.",
          describe(),
          offset,
          version);
    }
    apply(key, current);
    version = offset + 1;
    if (listeners.isEmpty()) {
      return;
    }
    notifyListeners(new RouteChange(key, previous, current, offset + 1));
  }

  private void notifyListeners(RouteChange change) {
    if (listeners.isEmpty()) {
      return;
    }
    for (RouteListener l : listeners) {
      try {
        l.onChange(change);
      } catch (RuntimeException e) {
        log.error("RouteListener {} of {} failed on {}", l, describe(), change, e);
      }
    }
  }

  private void apply(String key, Route current) {
    index.apply(key, current);
  }

  /** Thrown inside the append transaction when another instance appended first: rolls it back. */
  private static final class Behind extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Behind() {
      super("another instance appended first", null, false, false);
    }
  }

  /**
   * Appends {@code payloads} at the table's version; returns the first offset, or -1 on a shared
   * backend when another instance appended first (then nothing was written). Caller holds the write
   * lock.
   */
  private long append(List<byte[]> payloads) {
    if (!shared) {
      return payloads.size() == 1 ? changes.append(payloads.get(0)) : changes.appendAll(payloads);
    }
    long expected = version;
    try {
      return backend.inTransaction(
          tx -> {
            Transaction.LogWriter w = tx.log(settings.storeName());
            long first = payloads.size() == 1 ? w.append(payloads.get(0)) : w.appendAll(payloads);
            if (first != expected) {
              throw new Behind();
            }
            return first;
          });
    } catch (Behind b) {
      return -1;
    }
  }

  /** On a shared backend, applies what other instances appended. Caller holds the write lock. */
  private void catchUpIfShared() {
    if (shared) {
      catchUpLocked();
    }
  }

  /**
   * Applies the changes other instances appended since {@link #version} (from the newest usable
   * snapshot first if the log was truncated past it), telling listeners. Returns how many changes
   * were applied. Called by the follower; a no-op once closed.
   *
   * @throws PersistenceException if the backend cannot be read (the follower retries)
   */
  long catchUp() {
    writeLock.lock();
    try {
      if (closed) {
        return 0;
      }
      return catchUpLocked();
    } finally {
      writeLock.unlock();
    }
  }

  private long catchUpLocked() {
    long before = version;
    if (changes.firstOffset() > version) {
      reloadFromSnapshotLocked();
    }
    while (true) {
      List<LogRecord> batch = changes.read(version, REPLAY_BATCH);
      if (batch.isEmpty()) {
        return version - before;
      }
      if (batch.get(0).offset() > version && changes.firstOffset() > version) {
        // another instance saved a snapshot and truncated the log between the check above and
        // this read: the records from our version on are gone, not missing; catch up from it
        reloadFromSnapshotLocked();
        continue;
      }
      for (LogRecord r : batch) {
        RouteFormat.Change c = decode(r, version);
        applyAndNotify(c.key(), index.get(c.key()), c.route(), r.offset());
      }
    }
  }

  /**
   * The log no longer holds the records after {@link #version}: replaces the table with the newest
   * usable snapshot (telling listeners the difference). Caller holds the write lock.
   */
  private void reloadFromSnapshotLocked() {
    long logFirst = changes.firstOffset();
    long logNext = changes.nextOffset();
    List<SnapshotInfo> available = new ArrayList<>(snapshots.list());
    Collections.reverse(available);
    for (SnapshotInfo info : available) {
      long v = info.version();
      if (v > logNext || v < logFirst || v < version) {
        continue;
      }
      Map<String, Route> loaded;
      try {
        loaded = loadSnapshot(v);
      } catch (StoreCorruptedException | NoSuchElementException e) {
        warnUnusable(v, e.getMessage());
        continue;
      }
      for (Route old : index.sorted().values()) {
        if (!loaded.containsKey(old.key())) {
          notifyListeners(new RouteChange(old.key(), old, null, v));
          apply(old.key(), null);
        }
      }
      for (Map.Entry<String, Route> e : loaded.entrySet()) {
        Route old = index.get(e.getKey());
        if (!e.getValue().equals(old)) {
          apply(e.getKey(), e.getValue());
          notifyListeners(new RouteChange(e.getKey(), old, e.getValue(), v));
        }
      }
      log.info(
          "{}: caught up from snapshot {} (this instance was at version {}, the log now starts at"
              + " {})",
          describe(),
          v,
          version,
          logFirst);
      version = v;
      lastSnapshotCovered = v;
      return;
    }
    throw new StoreCorruptedException(
        "Cannot catch up "
            + describe()
            + " from version "
            + version
            + ": the log starts at "
            + logFirst
            + " and no usable snapshot covers the gap. Reopen the table; if that fails, restore"
            + " the backend from a backup and run 'cairn verify'.");
  }

  /** After a write: tells the other instances (best effort; they also check periodically). */
  private void published() {
    if (follower != null) {
      follower.publish(version);
    }
  }

  private record PendingSnapshot(long covered, byte[] data) {}

  private PendingSnapshot maybeCapture() {
    return version - lastSnapshotCovered >= settings.snapshotEvery() ? capture() : null;
  }

  /** Encodes the table as of {@link #version}. Caller holds the write lock. */
  private PendingSnapshot capture() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.max(1024, index.size() * 64));
    try {
      RouteFormat.writeSnapshot(bytes, version, index.sorted());
    } catch (IOException e) {
      throw new UncheckedIOException(e); // in-memory stream: cannot happen
    }
    lastSnapshotCovered = version;
    return new PendingSnapshot(version, bytes.toByteArray());
  }

  private void saveAutomatic(PendingSnapshot pending) {
    if (pending == null) {
      return;
    }
    try {
      save(pending, Set.of());
      snapshotFailure = null;
    } catch (PersistenceException e) {
      snapshotFailure = "snapshot at version " + pending.covered + " failed: " + e.getMessage();
      log.warn(
          "{}: automatic snapshot at version {} failed; the change is applied and durable in the"
              + " log, the next snapshot is tried after {} more changes",
          describe(),
          pending.covered,
          settings.snapshotEvery(),
          e);
    }
  }

  /**
   * Saves a snapshot, deletes {@code unusable} snapshots (except one this save replaced), applies
   * retention and truncates the log before the oldest snapshot kept.
   */
  private void save(PendingSnapshot pending, Set<Long> unusable) {
    snapshotLock.lock();
    try {
      snapshots.save(pending.covered, pending.data);
      for (long v : unusable) {
        if (v != pending.covered && snapshots.delete(v)) {
          log.warn("{}: deleted unusable snapshot version {}", describe(), v);
        }
      }
      snapshots.retainLatest(settings.retainSnapshots());
      List<SnapshotInfo> kept = snapshots.list();
      if (!kept.isEmpty()) {
        long removed = changes.truncateBefore(kept.get(0).version());
        log.debug(
            "{}: saved snapshot version {} ({} bytes), kept {}, truncated {} log records",
            describe(),
            pending.covered,
            pending.data.length,
            kept.size(),
            removed);
      }
    } finally {
      snapshotLock.unlock();
    }
  }

  private boolean snapshotExists(long v) {
    return snapshots.latest().map(i -> i.version() == v).orElse(false);
  }

  /** Rebuilds the table from storage; see the class comment. Runs before the table is shared. */
  private void recover(Progress progress) {
    long started = System.nanoTime();
    long logFirst = changes.firstOffset();
    long logNext = changes.nextOffset();
    List<SnapshotInfo> available = new ArrayList<>(snapshots.list());
    Collections.reverse(available); // newest first
    Set<Long> unusable = new TreeSet<>();
    Map<String, Route> loaded = null;
    long start = 0;
    int tried = 0;
    for (SnapshotInfo info : available) {
      progress.report("load_snapshot", tried++, available.size());
      long v = info.version();
      if (v > logNext) {
        warnUnusable(v, "it covers log offsets up to " + v + " but the log ends at " + logNext);
        unusable.add(v);
        continue;
      }
      if (v < logFirst) {
        log.warn(
            "{}: snapshot version {} and older cannot be used: the log was truncated before {}",
            describe(),
            v,
            logFirst);
        break;
      }
      try {
        loaded = loadSnapshot(v);
        start = v;
        break;
      } catch (StoreCorruptedException e) {
        warnUnusable(v, e.getMessage());
        unusable.add(v);
      } catch (NoSuchElementException e) {
        log.warn("{}: snapshot version {} vanished while loading; skipped", describe(), v);
      }
    }
    progress.report("load_snapshot", tried, available.size());
    if (loaded == null && logFirst > 0) {
      throw new StoreCorruptedException(
          "Cannot recover "
              + describe()
              + ": no usable snapshot"
              + (available.isEmpty() ? "" : " (tried versions " + versions(available) + ")")
              + " and the log starts at offset "
              + logFirst
              + ", so the changes before it are lost. Restore the backend from a backup and run"
              + " 'cairn verify'.");
    }
    if (loaded != null) {
      for (Map.Entry<String, Route> e : loaded.entrySet()) {
        apply(e.getKey(), e.getValue());
      }
    }
    long replayed = replay(start, logNext, progress);
    version = start + replayed;
    lastSnapshotCovered = start;
    if (shared) {
      writeLock.lock();
      try {
        catchUpLocked(); // what other instances appended or truncated during the replay
      } finally {
        writeLock.unlock();
      }
    }
    log.info(
        "Recovered {}: {} routes at version {} from {} and {} replayed log records",
        describe(),
        index.size(),
        version,
        loaded != null ? "snapshot " + start : "no snapshot",
        replayed);
    io.cairn.persistence.spi.Events.recovered(
        backend,
        "route-table",
        settings.name(),
        (System.nanoTime() - started) / 1_000_000,
        replayed);
    if (!unusable.isEmpty() || replayed >= settings.snapshotEvery()) {
      PendingSnapshot fresh;
      writeLock.lock();
      try {
        fresh = capture();
      } finally {
        writeLock.unlock();
      }
      save(fresh, unusable);
    }
  }

  private Map<String, Route> loadSnapshot(long v) {
    Map<String, Route> routes = new LinkedHashMap<>();
    try (InputStream in = snapshots.load(v)) {
      RouteFormat.readSnapshot(in, v, routes::put);
      return routes;
    } catch (RouteFormat.Corrupt e) {
      throw new StoreCorruptedException(
          "Snapshot version " + v + " of " + describe() + " " + e.getMessage());
    } catch (IOException e) {
      throw new StorageEngineException(
          "Reading snapshot version " + v + " of " + describe() + " failed: " + e, e);
    }
  }

  /** Replays log records from {@code from} to the end; returns how many were applied. */
  private long replay(long from, long expectedEnd, Progress progress) {
    long next = from;
    long total = Math.max(0, expectedEnd - from);
    while (true) {
      List<LogRecord> batch = changes.read(next, REPLAY_BATCH);
      if (batch.isEmpty()) {
        break;
      }
      if (shared && batch.get(0).offset() > next && changes.firstOffset() > next) {
        break; // truncated by another instance meanwhile: recover() catches up from a snapshot
      }
      for (LogRecord r : batch) {
        RouteFormat.Change c = decode(r, next);
        apply(c.key(), c.route());
        next++;
      }
      progress.report("replay", next - from, Math.max(total, next - from));
    }
    return next - from;
  }

  /** Decodes log record {@code r}, which must be at offset {@code expected}. */
  private RouteFormat.Change decode(LogRecord r, long expected) {
    if (r.offset() != expected) {
      throw new StoreCorruptedException(
          "Log of "
              + describe()
              + " has a gap: expected offset "
              + expected
              + " but read "
              + r.offset()
              + ". Restore the backend from a backup and run 'cairn verify'.");
    }
    try {
      return RouteFormat.decodeChange(r.payload(), r.offset() + 1);
    } catch (RouteFormat.Corrupt e) {
      throw new StoreCorruptedException(
          "Log record at offset "
              + r.offset()
              + " of "
              + describe()
              + " "
              + e.getMessage()
              + "; the table cannot be recovered past it. Restore the backend from a backup"
              + " and run 'cairn verify'.");
    }
  }

  private void warnUnusable(long v, String why) {
    log.warn(
        "{}: snapshot version {} is unusable ({}); falling back to an older snapshot and a longer"
            + " replay",
        describe(),
        v,
        why);
  }

  private static List<Long> versions(List<SnapshotInfo> infos) {
    List<Long> out = new ArrayList<>();
    infos.forEach(i -> out.add(i.version()));
    return out;
  }

  private void registerMetrics() {
    metrics.register(metricPrefix + ".routes", (Gauge<Integer>) index::size);
    metrics.register(metricPrefix + ".version", (Gauge<Long>) () -> version);
    healthChecks.register(
        metricPrefix,
        new HealthCheck() {
          @Override
          protected Result check() {
            if (closed) {
              return Result.unhealthy(describe() + " is closed");
            }
            String failure = snapshotFailure;
            RouteFollower f = follower;
            if (failure == null && f != null) {
              failure = f.failure();
            }
            return failure != null
                ? Result.unhealthy(describe() + ": " + failure)
                : Result.healthy(describe() + ": " + index.size() + " routes");
          }
        });
  }
}
