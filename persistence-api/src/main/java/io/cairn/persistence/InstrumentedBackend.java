package io.cairn.persistence;

import com.codahale.metrics.CachedGauge;
import com.codahale.metrics.Clock;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.CoarseClock;
import io.cairn.persistence.spi.GuardedIterator;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The registry's wrapper around every backend: the one shared layer that every backend gets for
 * free, so that the rules below hold alike on every backend, including third parties'.
 *
 * <ul>
 *   <li><b>Arguments</b> are checked here before the backend sees them ({@link ArgumentChecks}):
 *       store names, keys, values, payloads, TTLs, versions, offsets. Bad input is an {@link
 *       IllegalArgumentException} (a {@link NullPointerException} for a null key, value or payload)
 *       with one wording for every backend.
 *   <li><b>The transaction rule</b>: on the thread running {@link #inTransaction} work, a write
 *       through a store obtained from the backend (not through the {@link Transaction} view) throws
 *       {@link IllegalStateException}; transactions do not nest.
 *   <li><b>The read-only rule</b>: on the thread running {@link #readTransaction} work, every write
 *       (and {@code compact}, {@code inTransaction}, a nested {@code readTransaction}) throws
 *       {@link IllegalStateException}; the read view is confined to that thread and to the work,
 *       and the scan iterators the work left open are closed when it ends.
 *   <li><b>Caps</b>: one transaction, {@code putAll} or {@code appendAll} holds at most {@link
 *       Limits#maxBatchEntries} writes and {@link Limits#maxBatchBytes} bytes of keys, values and
 *       payloads; more is an {@link IllegalArgumentException} naming the cap and its configuration
 *       key, before anything is written.
 *   <li><b>Messages</b>: a compare-and-set conflict is reworded into {@link
 *       VersionConflictException}'s one wording, naming backend, namespace and key.
 *   <li><b>Metrics</b>: every operation is counted, and a sample of them timed ({@link CallTimer}).
 *       By default timers aggregate per store kind: {@code cairn.backends.<backend>.<kind>.<op>}
 *       (kind {@code kv}, {@code log}, {@code snapshot}), so a backend with 100,000 stores has the
 *       same 16 timers as one with a single store, and a store costs this layer one small cached
 *       wrapper (about 100 bytes). With {@code per-store-metrics = true} each store gets its own
 *       timers {@code cairn.backends.<backend>.<kind>.<store>.<op>} and an {@code .entries} gauge,
 *       about 5-8 KB of heap per store, held until the backend closes.
 * </ul>
 */
final class InstrumentedBackend implements StorageBackend {
  private final StorageBackend delegate;
  private final MetricRegistry metrics;
  private final String prefix;
  private final Limits limits;
  private final boolean redactKeys;
  // null unless encryption.hashed-key-namespaces lists namespaces: see HashedKeys
  private final HashedKeys hashedKeys;
  private final ConcurrentMap<String, Kv> kv = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Log> logs = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, Snap> snaps = new ConcurrentHashMap<>();
  private final CallTimer transactions;
  private final CallTimer readTransactions;
  private final KvTimers kvTimers; // null when per store
  private final LogTimers logTimers;
  private final SnapTimers snapTimers;
  private final CoarseClock coarseClock; // acquired here, released by close()

  /** Set on the thread running this backend's transaction work, for the transaction rule. */
  private final ThreadLocal<TxState> inTransaction = new ThreadLocal<>();

  /** Set on the thread running this backend's read-transaction work: it may not write. */
  private final ThreadLocal<CheckedReadView> inReadTransaction = new ThreadLocal<>();

  /**
   * Threads running transaction or read-transaction work on this backend now. Raised before a
   * thread marks itself in {@link #inTransaction} or {@link #inReadTransaction} and lowered after
   * it unmarks, so a thread inside such work always sees it above zero: while it is zero, the
   * per-write refusal checks skip their two thread-local lookups (about 4% of a RocksDB put).
   */
  private final java.util.concurrent.atomic.AtomicInteger threadsInWork =
      new java.util.concurrent.atomic.AtomicInteger();

  private volatile boolean closed;

  /**
   * Shared caps and metric options of one backend, read from its configuration (keys in {@code
   * cairn.backend-defaults.common}).
   *
   * @param maxBatchEntries most writes in one transaction, putAll or appendAll
   * @param maxBatchBytes most bytes of keys, values and payloads in one of them
   * @param perStoreMetrics timers per store instead of per store kind
   */
  record Limits(int maxBatchEntries, long maxBatchBytes, boolean perStoreMetrics) {
    static final String ENTRIES_KEY = "max-batch-entries";
    static final String BYTES_KEY = "max-batch-bytes";
    static final String PER_STORE_KEY = "per-store-metrics";
    static final Limits DEFAULT = new Limits(100_000, 128L * 1024 * 1024, false);

    /** Reads the caps of one backend entry; problems go to {@code settings}. */
    static Limits read(io.cairn.persistence.spi.Settings settings) {
      return new Limits(
          settings.intBetween(ENTRIES_KEY, 1, Integer.MAX_VALUE, DEFAULT.maxBatchEntries()),
          settings.bytes(BYTES_KEY, 1, DEFAULT.maxBatchBytes()),
          settings.bool(PER_STORE_KEY, DEFAULT.perStoreMetrics()));
    }
  }

  private final java.util.Map<Class<?>, Object> registryExtensions =
      new java.util.concurrent.ConcurrentHashMap<>();

  InstrumentedBackend(StorageBackend delegate, MetricRegistry metrics, String prefix) {
    this(delegate, metrics, prefix, Limits.DEFAULT, false);
  }

  InstrumentedBackend(
      StorageBackend delegate,
      MetricRegistry metrics,
      String prefix,
      Limits limits,
      boolean redactKeys) {
    this(delegate, metrics, prefix, limits, redactKeys, null);
  }

  InstrumentedBackend(
      StorageBackend delegate,
      MetricRegistry metrics,
      String prefix,
      Limits limits,
      boolean redactKeys,
      HashedKeys hashedKeys) {
    this.hashedKeys = hashedKeys;
    this.delegate = delegate;
    this.metrics = metrics;
    this.prefix = prefix;
    this.limits = limits;
    this.redactKeys = redactKeys;
    this.coarseClock = CoarseClock.acquire();
    try {
      this.transactions = timer(prefix + ".transaction");
      this.readTransactions = timer(prefix + ".read-transaction");
      if (limits.perStoreMetrics()) {
        kvTimers = null;
        logTimers = null;
        snapTimers = null;
      } else {
        kvTimers = new KvTimers(prefix + "." + StoreKind.KEY_VALUE.shortName());
        logTimers = new LogTimers(prefix + "." + StoreKind.LOG.shortName());
        snapTimers = new SnapTimers(prefix + "." + StoreKind.SNAPSHOT.shortName());
        metrics.gauge(
            prefix + ".stores-in-use",
            () -> (Gauge<Integer>) () -> kv.size() + logs.size() + snaps.size());
      }
    } catch (RuntimeException e) {
      coarseClock.release();
      throw e;
    }
  }

  /**
   * A timer cheap enough to wrap every store operation ({@link CallTimer}: every call counted, the
   * exact clock read for a sample). The lock-free decaying reservoir, because the default one takes
   * a lock on every update; its decay, the rate meter and the sampling tick (all in seconds or
   * milliseconds) on the {@link CoarseClock}. {@link MetricRegistry#timer(String,
   * MetricRegistry.MetricSupplier)} is a hash lookup: registering costs O(1) however many metrics
   * exist.
   *
   * @throws IllegalStateException if the name is already registered as another kind of timer
   */
  private CallTimer timer(String name) {
    Clock coarse = coarseClock.metricsClock();
    Timer registered = metrics.timer(name, () -> CallTimer.create(coarse));
    if (registered instanceof CallTimer t) {
      return t;
    }
    throw new IllegalStateException(
        "The metric registry already holds a timer named '"
            + name
            + "' that Cairn did not register ("
            + registered.getClass().getName()
            + "); Cairn's backend metrics need that name: remove that timer from the registry"
            + " or give the backend another name.");
  }

  String metricPrefix() {
    return prefix;
  }

  StorageBackend delegate() {
    return delegate;
  }

  @Override
  public String name() {
    return delegate.name();
  }

  @Override
  public String type() {
    return delegate.type();
  }

  @Override
  public Durability durability() {
    return delegate.durability();
  }

  @Override
  public Set<Capability> capabilities() {
    return delegate.capabilities();
  }

  @Override
  public KeyValueStore keyValue(String namespace) {
    ensureOpen();
    Kv existing = kv.get(namespace == null ? "" : namespace);
    if (existing != null) {
      return existing;
    }
    ArgumentChecks.check(StoreKind.KEY_VALUE, namespace);
    KeyValueStore raw = delegate.keyValue(namespace);
    KeyValueStore store = hashed(namespace) ? hashedKeys.wrap(raw) : raw;
    return kv.computeIfAbsent(namespace, n -> new Kv(store, n));
  }

  @Override
  public LogStore log(String name) {
    ensureOpen();
    Log existing = logs.get(name == null ? "" : name);
    if (existing != null) {
      return existing;
    }
    ArgumentChecks.check(StoreKind.LOG, name);
    LogStore store = delegate.log(name);
    return logs.computeIfAbsent(name, n -> new Log(store, n));
  }

  @Override
  public SnapshotStore snapshots(String name) {
    ensureOpen();
    Snap existing = snaps.get(name == null ? "" : name);
    if (existing != null) {
      return existing;
    }
    ArgumentChecks.check(StoreKind.SNAPSHOT, name);
    SnapshotStore store = delegate.snapshots(name);
    return snaps.computeIfAbsent(name, n -> new Snap(store, n));
  }

  private boolean hashed(String namespace) {
    return hashedKeys != null && hashedKeys.applies(namespace);
  }

  private String base(StoreKind kind, String store) {
    // a dotted store name stays one element: no store can reach another store's metrics
    return prefix
        + "."
        + kind.shortName()
        + "."
        + io.cairn.persistence.spi.MetricNames.element(store);
  }

  @Override
  public <T> T inTransaction(Transaction.Work<T> work) {
    ensureOpen();
    ArgumentChecks.checkNotNull(work, "work");
    if (inTransaction.get() != null) {
      throw new IllegalStateException(
          "Transactions do not nest: inTransaction() of backend '"
              + name()
              + "' was called from inside its own transaction work. Do all the work in the outer"
              + " transaction.");
    }
    refuseInReadTransaction("run inTransaction()");
    TxState state = new TxState();
    long started = transactions.start();
    try {
      return delegate.inTransaction(
          tx -> {
            // marked on the thread that runs the work, whichever the backend chose
            threadsInWork.incrementAndGet();
            inTransaction.set(state);
            try {
              return work.run(new CheckedTransaction(tx, state));
            } finally {
              inTransaction.remove();
              threadsInWork.decrementAndGet();
            }
          });
    } finally {
      transactions.stop(started);
    }
  }

  /**
   * The read-only rule and the thread rule for every backend: the view handed to {@code work}
   * checks arguments, refuses use from another thread or after the work ended, and closes the scan
   * iterators the work left open; writes on this thread are refused while it runs.
   */
  @Override
  public <T> T readTransaction(Transaction.ReadWork<T> work) {
    ensureOpen();
    ArgumentChecks.checkNotNull(work, "work");
    if (!delegate.capabilities().contains(Capability.SNAPSHOT_READS)) {
      return delegate.readTransaction(work); // its UnsupportedOperationException, or a surprise
    }
    if (inTransaction.get() != null) {
      throw new IllegalStateException(
          "readTransaction() of backend '"
              + name()
              + "' was called from inside its inTransaction() work: the snapshot would not show"
              + " the transaction's own writes. Read through the Transaction view instead.");
    }
    refuseInReadTransaction("run a nested readTransaction()");
    long started = readTransactions.start();
    try {
      return delegate.readTransaction(
          view -> {
            CheckedReadView checked = new CheckedReadView(view);
            threadsInWork.incrementAndGet();
            inReadTransaction.set(checked);
            try {
              return work.run(checked);
            } finally {
              inReadTransaction.remove();
              threadsInWork.decrementAndGet();
              checked.end();
            }
          });
    } finally {
      readTransactions.stop(started);
    }
  }

  @Override
  public SortedSet<StoreId> stores() {
    ensureOpen();
    return delegate.stores();
  }

  @Override
  public BackendStats stats() {
    ensureOpen();
    return delegate.stats();
  }

  @Override
  public VerifyReport verify(Progress progress) {
    ensureOpen();
    VerifyReport report = delegate.verify(progress);
    if (!report.healthy()) {
      corruption("verify", report.problems().get(0), report.problems().size());
    }
    return report;
  }

  @Override
  public void compact(Progress progress) {
    ensureOpen();
    refuseInTransaction("compact", "the backend", null, null);
    refuseInReadTransaction("compact the backend");
    delegate.compact(progress);
  }

  @Override
  public ResealReport reseal(Progress progress) {
    ensureOpen();
    return delegate.reseal(progress);
  }

  @Override
  public void checkpoint(Path target, Progress progress) {
    ensureOpen();
    long started = System.nanoTime();
    delegate.checkpoint(target, progress);
    Object sink = registryExtensions.get(io.cairn.persistence.spi.Events.class);
    if (sink instanceof io.cairn.persistence.spi.Events ev && ev.enabled()) {
      java.util.Map<String, Object> f = new java.util.LinkedHashMap<>();
      f.put("kind", "checkpoint");
      f.put("target", target.toAbsolutePath().toString());
      f.put("duration-ms", (System.nanoTime() - started) / 1_000_000);
      ev.emit(io.cairn.persistence.spi.EventType.BACKUP, delegate.name(), f);
    }
  }

  @Override
  public <T> java.util.Optional<T> extension(Class<T> type) {
    ensureOpen();
    Object own = registryExtensions.get(type);
    if (own != null) {
      return java.util.Optional.of(type.cast(own));
    }
    if (type == Importer.class && hashedKeys != null) {
      // an exact import below this wrapper would bypass the key hashing: see HashedKeys.guard
      return delegate.extension(Importer.class).map(i -> type.cast(hashedKeys.guard(i)));
    }
    return delegate.extension(type);
  }

  /**
   * Services the registry offers for every backend it opened, whatever the type ({@link
   * RetentionFloors}, {@link io.cairn.persistence.spi.Events}); answered before the engine's own.
   */
  <T> void provide(Class<T> type, T service) {
    registryExtensions.put(type, type.cast(service));
  }

  @Override
  public HealthCheck.Result health() {
    try {
      return delegate.health();
    } catch (RuntimeException e) {
      return HealthCheck.Result.unhealthy(e);
    }
  }

  /**
   * Closes the backend and forgets the cached store wrappers (and with them any per-store timers
   * this layer held); the registry removes the metrics themselves.
   */
  @Override
  public void close() {
    boolean first;
    synchronized (this) {
      first = !closed;
      closed = true;
    }
    try {
      delegate.close();
    } finally {
      if (first) {
        kv.clear();
        logs.clear();
        snaps.clear();
        coarseClock.release();
      }
    }
  }

  /** Cached stores must not outlive the backend: a lookup after close fails like any other use. */
  private void ensureOpen() {
    if (closed) {
      throw new BackendClosedException(delegate.name());
    }
  }

  @Override
  public String toString() {
    return delegate.toString();
  }

  // ---- the shared rules ----

  /** What the transaction rule and the caps need to know about a running transaction. */
  private static final class TxState {
    long entries;
    long bytes;
  }

  /**
   * The transaction rule: a write through the backend's own store on the thread running this
   * backend's transaction work would not be part of the transaction (it would commit at once on
   * some engines and deadlock or fail on others), so it is refused alike on every backend.
   */
  /**
   * Refuses {@code op} on the thread running transaction work. {@code txView} and {@code store}
   * name the transaction view to write through instead ({@code tx.<txView>("<store>")}; {@code
   * txView} null: none), joined only for the message: built on every write it was a string per put.
   */
  private void refuseInTransaction(
      String op, String storeDescription, String txView, String store) {
    if (threadsInWork.get() == 0) {
      return; // no thread is inside transaction work, so neither is this one
    }
    String txAccessor = txView == null ? null : "tx." + txView + "(\"" + store + "\")";
    refuseInReadTransaction(op + " on " + storeDescription);
    if (inTransaction.get() != null) {
      throw new IllegalStateException(
          "Cannot "
              + op
              + " on "
              + storeDescription
              + " of backend '"
              + name()
              + "' directly inside inTransaction(): it would not be part of the transaction."
              + (txAccessor != null
                  ? " Write through the Transaction view instead: " + txAccessor + "."
                  : " Do it before or after the transaction.")
              + " Nothing was written.");
    }
  }

  /** The read-only rule: nothing writes on the thread running read-transaction work. */
  private void refuseInReadTransaction(String what) {
    if (inReadTransaction.get() != null) {
      throw new IllegalStateException(
          "Cannot "
              + what
              + " of backend '"
              + name()
              + "' inside readTransaction(): a read transaction is read-only. Write before or"
              + " after it, or use inTransaction(). Nothing was written.");
    }
  }

  /** The cap on one putAll or appendAll. */
  private void checkBatch(String op, String store, long entries, long bytes) {
    checkCaps(op + " on " + store, entries, bytes);
  }

  private void checkCaps(String what, long entries, long bytes) {
    if (entries > limits.maxBatchEntries()) {
      throw new IllegalArgumentException(
          capExceeded(what, entries + " writes", Limits.ENTRIES_KEY, limits.maxBatchEntries()));
    }
    if (bytes > limits.maxBatchBytes()) {
      throw new IllegalArgumentException(
          capExceeded(what, bytes + " bytes", Limits.BYTES_KEY, limits.maxBatchBytes()));
    }
  }

  private String capExceeded(String what, String size, String key, long cap) {
    return capitalize(what)
        + " of backend '"
        + name()
        + "' would hold "
        + size
        + ", over the cap of "
        + cap
        + " (cairn.backends."
        + name()
        + "."
        + key
        + "); the write was refused and nothing of it was written. Split the work into smaller"
        + " batches, or raise the cap.";
  }

  private static String capitalize(String s) {
    return Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  private static long sizeOf(Collection<KeyValue> entries) {
    long bytes = 0;
    for (KeyValue e : ArgumentChecks.checkNotNull(entries, "entries")) {
      ArgumentChecks.checkNotNull(e, "an entry of entries");
      ArgumentChecks.checkKey(e.key());
      ArgumentChecks.checkValue(e.value());
      bytes += e.key().length + e.value().length;
    }
    return bytes;
  }

  private static long payloadBytes(List<byte[]> payloads) {
    long bytes = 0;
    for (byte[] p : ArgumentChecks.checkNotNull(payloads, "payloads")) {
      ArgumentChecks.checkPayload(p);
      bytes += p.length;
    }
    return bytes;
  }

  private VersionConflictException reworded(
      String namespace, byte[] key, VersionConflictException e) {
    String where =
        "key "
            + Bytes.toDisplay(key, redactKeys)
            + " in key-value namespace '"
            + namespace
            + "' of backend '"
            + name()
            + "'";
    return new VersionConflictException(where, e.expectedVersion(), e.actualVersion(), e);
  }

  private static void checkWrite(byte[] key, byte[] value, Duration ttl) {
    ArgumentChecks.checkKey(key);
    ArgumentChecks.checkValue(value);
    ArgumentChecks.checkTtl(ttl);
  }

  // ---- metrics ----

  private <T> T timed(CallTimer timer, Supplier<T> op) {
    long started = timer.start();
    try {
      return op.get();
    } catch (StoreCorruptedException e) {
      corruption("operation", e.getMessage(), 1);
      throw e;
    } finally {
      timer.stop(started);
    }
  }

  /**
   * A {@code corruption} event (never keys or values: the message of a {@link
   * StoreCorruptedException} names the store and offset, never a key, by the exception rule).
   */
  private void corruption(String detectedBy, String detail, int problems) {
    Object sink = registryExtensions.get(io.cairn.persistence.spi.Events.class);
    if (sink instanceof io.cairn.persistence.spi.Events ev && ev.enabled()) {
      java.util.Map<String, Object> f = new java.util.LinkedHashMap<>();
      f.put("detected-by", detectedBy);
      f.put("problems", problems);
      f.put("detail", detail);
      ev.emit(io.cairn.persistence.spi.EventType.CORRUPTION, delegate.name(), f);
    }
  }

  /** Per-store size gauge (per-store metrics only); {@code gauge(name, supplier)} is O(1). */
  private void sizeGauge(String base, Supplier<Long> size) {
    metrics.gauge(
        base + ".entries",
        () ->
            new CachedGauge<Long>(5, TimeUnit.SECONDS) {
              @Override
              protected Long loadValue() {
                try {
                  return size.get();
                } catch (RuntimeException e) {
                  return -1L; // closed or failing: the health check reports why
                }
              }
            });
  }

  private final class KvTimers {
    final CallTimer get;
    final CallTimer put;
    final CallTimer cas;
    final CallTimer delete;
    final CallTimer putAll;
    final CallTimer scan;
    final CallTimer purge;

    KvTimers(String base) {
      get = timer(base + ".get");
      put = timer(base + ".put");
      cas = timer(base + ".cas");
      delete = timer(base + ".delete");
      putAll = timer(base + ".put-all");
      scan = timer(base + ".scan");
      purge = timer(base + ".purge-expired");
    }
  }

  private final class LogTimers {
    final CallTimer append;
    final CallTimer appendAll;
    final CallTimer read;
    final CallTimer truncate;

    LogTimers(String base) {
      append = timer(base + ".append");
      appendAll = timer(base + ".append-all");
      read = timer(base + ".read");
      truncate = timer(base + ".truncate");
    }
  }

  private final class SnapTimers {
    final CallTimer save;
    final CallTimer load;
    final CallTimer list;
    final CallTimer delete;

    SnapTimers(String base) {
      save = timer(base + ".save");
      load = timer(base + ".load");
      list = timer(base + ".list");
      delete = timer(base + ".delete");
    }
  }

  // ---- stores ----

  private final class Kv implements KeyValueStore {
    private final KeyValueStore d;
    private final String name;
    private final String description;
    private final KvTimers t;

    Kv(KeyValueStore d, String name) {
      this.d = d;
      this.name = name;
      this.description = ArgumentChecks.kindName(StoreKind.KEY_VALUE) + " '" + name + "'";
      if (kvTimers != null) {
        t = kvTimers;
      } else {
        String base = base(StoreKind.KEY_VALUE, name);
        t = new KvTimers(base);
        sizeGauge(base, d::approximateCount);
      }
    }

    private void refuseWrite(String op) {
      refuseInTransaction(op, description, "keyValue", name);
    }

    @Override
    public String name() {
      return d.name();
    }

    @Override
    public Optional<Entry> getEntry(byte[] key) {
      ArgumentChecks.checkKey(key);
      return timed(t.get, () -> d.getEntry(key));
    }

    @Override
    public byte[] get(byte[] key) {
      ArgumentChecks.checkKey(key);
      return timed(t.get, () -> d.get(key));
    }

    @Override
    public long put(byte[] key, byte[] value) {
      checkWrite(key, value, null);
      refuseWrite("put");
      long started = t.put.start();
      try {
        return d.put(key, value);
      } finally {
        t.put.stop(started);
      }
    }

    @Override
    public long put(byte[] key, byte[] value, Duration ttl) {
      checkWrite(key, value, ttl);
      refuseWrite("put");
      long started = t.put.start();
      try {
        return d.put(key, value, ttl);
      } finally {
        t.put.stop(started);
      }
    }

    @Override
    public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
      checkWrite(key, value, ttl);
      ArgumentChecks.checkExpectedVersion(expectedVersion);
      refuseWrite("compareAndSet");
      long started = t.cas.start();
      try {
        return d.compareAndSet(key, expectedVersion, value, ttl);
      } catch (VersionConflictException e) {
        throw reworded(name, key, e);
      } finally {
        t.cas.stop(started);
      }
    }

    @Override
    public boolean delete(byte[] key) {
      ArgumentChecks.checkKey(key);
      refuseWrite("delete");
      long started = t.delete.start();
      try {
        return d.delete(key);
      } finally {
        t.delete.stop(started);
      }
    }

    @Override
    public void compareAndDelete(byte[] key, long expectedVersion) {
      ArgumentChecks.checkKey(key);
      ArgumentChecks.checkExpectedVersion(expectedVersion);
      refuseWrite("compareAndDelete");
      long started = t.delete.start();
      try {
        d.compareAndDelete(key, expectedVersion);
      } catch (VersionConflictException e) {
        throw reworded(name, key, e);
      } finally {
        t.delete.stop(started);
      }
    }

    @Override
    public void putAll(Collection<KeyValue> entries) {
      long bytes = sizeOf(entries);
      checkBatch("putAll", description, entries.size(), bytes);
      refuseWrite("putAll");
      long started = t.putAll.start();
      try {
        d.putAll(entries);
      } finally {
        t.putAll.stop(started);
      }
    }

    @Override
    public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
      return timed(t.scan, () -> d.scan(fromInclusive, toExclusive));
    }

    @Override
    public CloseableIterator<Entry> scanPrefix(byte[] prefix) {
      ArgumentChecks.checkNotNull(prefix, "prefix");
      return timed(t.scan, () -> d.scanPrefix(prefix));
    }

    @Override
    public long purgeExpired() {
      refuseWrite("purgeExpired");
      return timed(t.purge, d::purgeExpired);
    }

    @Override
    public long approximateCount() {
      return d.approximateCount();
    }

    @Override
    public String toString() {
      return d.toString();
    }
  }

  private final class Log implements LogStore {
    private final LogStore d;
    private final String name;
    private final String description;
    private final LogTimers t;

    Log(LogStore d, String name) {
      this.d = d;
      this.name = name;
      this.description = ArgumentChecks.kindName(StoreKind.LOG) + " '" + name + "'";
      if (logTimers != null) {
        t = logTimers;
      } else {
        String base = base(StoreKind.LOG, name);
        t = new LogTimers(base);
        sizeGauge(base, () -> d.nextOffset() - d.firstOffset());
      }
    }

    private void refuseWrite(String op) {
      refuseInTransaction(op, description, "log", name);
    }

    @Override
    public String name() {
      return d.name();
    }

    @Override
    public long append(byte[] payload) {
      ArgumentChecks.checkPayload(payload);
      refuseWrite("append");
      long started = t.append.start();
      try {
        return d.append(payload);
      } finally {
        t.append.stop(started);
      }
    }

    @Override
    public long appendAll(List<byte[]> payloads) {
      long bytes = payloadBytes(payloads);
      checkBatch("appendAll", description, payloads.size(), bytes);
      refuseWrite("appendAll");
      long started = t.appendAll.start();
      try {
        return d.appendAll(payloads);
      } finally {
        t.appendAll.stop(started);
      }
    }

    @Override
    public List<LogRecord> read(long fromOffset, int maxRecords) {
      ArgumentChecks.checkOffset("fromOffset", fromOffset);
      ArgumentChecks.checkMaxRecords(maxRecords);
      return timed(t.read, () -> d.read(fromOffset, maxRecords));
    }

    @Override
    public long firstOffset() {
      return d.firstOffset();
    }

    @Override
    public long nextOffset() {
      return d.nextOffset();
    }

    @Override
    public long truncateBefore(long offset) {
      ArgumentChecks.checkOffset("truncateBefore offset", offset);
      refuseWrite("truncateBefore");
      long started = t.truncate.start();
      try {
        return d.truncateBefore(offset);
      } finally {
        t.truncate.stop(started);
      }
    }

    @Override
    public String toString() {
      return d.toString();
    }
  }

  private final class Snap implements SnapshotStore {
    private final SnapshotStore d;
    private final String description;
    private final SnapTimers t;

    Snap(SnapshotStore d, String name) {
      this.d = d;
      this.description = ArgumentChecks.kindName(StoreKind.SNAPSHOT) + " '" + name + "'";
      if (snapTimers != null) {
        t = snapTimers;
      } else {
        String base = base(StoreKind.SNAPSHOT, name);
        t = new SnapTimers(base);
        sizeGauge(base, () -> (long) d.list().size());
      }
    }

    private void refuseWrite(String op) {
      refuseInTransaction(op, description, null, null);
    }

    @Override
    public String name() {
      return d.name();
    }

    @Override
    public SnapshotInfo save(long version, InputStream data) {
      ArgumentChecks.checkSnapshotVersion(version);
      ArgumentChecks.checkNotNull(data, "data");
      refuseWrite("save a snapshot");
      return timed(t.save, () -> d.save(version, data));
    }

    @Override
    public Optional<SnapshotInfo> latest() {
      return timed(t.list, d::latest);
    }

    @Override
    public InputStream load(long version) {
      ArgumentChecks.checkSnapshotVersion(version);
      return timed(t.load, () -> d.load(version));
    }

    @Override
    public List<SnapshotInfo> list() {
      return timed(t.list, d::list);
    }

    @Override
    public boolean delete(long version) {
      ArgumentChecks.checkSnapshotVersion(version);
      refuseWrite("delete a snapshot");
      long started = t.delete.start();
      try {
        return d.delete(version);
      } finally {
        t.delete.stop(started);
      }
    }

    @Override
    public int retainLatest(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("retainLatest needs n >= 1, got " + n);
      }
      refuseWrite("retainLatest");
      return timed(t.delete, () -> d.retainLatest(n));
    }

    @Override
    public String toString() {
      return d.toString();
    }
  }

  // ---- the transaction view ----

  /**
   * The checked view handed to transaction work: the same argument checks as the stores, and the
   * transaction's running size against the caps.
   */
  private final class CheckedTransaction implements Transaction {
    private final Transaction d;
    private final TxState state;

    CheckedTransaction(Transaction d, TxState state) {
      this.d = d;
      this.state = state;
    }

    private void count(long entries, long bytes) {
      long e = state.entries + entries;
      long b = state.bytes + bytes;
      checkCaps("a transaction", e, b);
      state.entries = e;
      state.bytes = b;
    }

    @Override
    public KeyValueWriter keyValue(String namespace) {
      ArgumentChecks.check(StoreKind.KEY_VALUE, namespace);
      KeyValueWriter w =
          hashed(namespace)
              ? hashedKeys.wrap(d.keyValue(namespace), namespace)
              : d.keyValue(namespace);
      return new KeyValueWriter() {
        @Override
        public Optional<Entry> getEntry(byte[] key) {
          ArgumentChecks.checkKey(key);
          return w.getEntry(key);
        }

        @Override
        public long put(byte[] key, byte[] value) {
          checkWrite(key, value, null);
          count(1, key.length + value.length);
          return w.put(key, value);
        }

        @Override
        public long put(byte[] key, byte[] value, Duration ttl) {
          checkWrite(key, value, ttl);
          count(1, key.length + value.length);
          return w.put(key, value, ttl);
        }

        @Override
        public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
          checkWrite(key, value, ttl);
          ArgumentChecks.checkExpectedVersion(expectedVersion);
          count(1, key.length + value.length);
          try {
            return w.compareAndSet(key, expectedVersion, value, ttl);
          } catch (VersionConflictException e) {
            throw reworded(namespace, key, e);
          }
        }

        @Override
        public boolean delete(byte[] key) {
          ArgumentChecks.checkKey(key);
          count(1, key.length);
          return w.delete(key);
        }
      };
    }

    @Override
    public LogWriter log(String name) {
      ArgumentChecks.check(StoreKind.LOG, name);
      LogWriter w = d.log(name);
      return new LogWriter() {
        @Override
        public long append(byte[] payload) {
          ArgumentChecks.checkPayload(payload);
          count(1, payload.length);
          return w.append(payload);
        }

        @Override
        public long appendAll(List<byte[]> payloads) {
          long bytes = payloadBytes(payloads);
          count(payloads.size(), bytes);
          return w.appendAll(payloads);
        }

        @Override
        public long nextOffset() {
          return w.nextOffset();
        }
      };
    }
  }

  /**
   * The read view handed to read-transaction work: argument checks, the thread rule (only the
   * thread running the work, only while it runs) and closing the iterators the work left open.
   */
  private final class CheckedReadView implements Transaction.ReadView {
    private final Transaction.ReadView d;
    private final Thread owner = Thread.currentThread();
    private final List<CloseableIterator<Entry>> iterators = new java.util.ArrayList<>();
    private boolean ended;

    CheckedReadView(Transaction.ReadView d) {
      this.d = d;
    }

    void check() {
      if (Thread.currentThread() != owner) {
        throw new IllegalStateException(
            "A read-transaction view of backend '"
                + name()
                + "' was used from another thread; it belongs to the thread running the work");
      }
      if (ended) {
        throw new IllegalStateException(
            "This read transaction of backend '"
                + name()
                + "' has ended; its view is valid only inside the work");
      }
    }

    void end() {
      ended = true;
      RuntimeException first = null;
      for (CloseableIterator<Entry> it : iterators) {
        try {
          it.close();
        } catch (RuntimeException e) {
          first = first == null ? e : first;
        }
      }
      iterators.clear();
      if (first != null) {
        throw first;
      }
    }

    @Override
    public Transaction.KeyValueReader keyValue(String namespace) {
      check();
      ArgumentChecks.check(StoreKind.KEY_VALUE, namespace);
      Transaction.KeyValueReader r =
          hashed(namespace)
              ? hashedKeys.wrap(d.keyValue(namespace), namespace)
              : d.keyValue(namespace);
      return new Transaction.KeyValueReader() {
        @Override
        public Optional<Entry> getEntry(byte[] key) {
          check();
          ArgumentChecks.checkKey(key);
          return r.getEntry(key);
        }

        @Override
        public byte[] get(byte[] key) {
          check();
          ArgumentChecks.checkKey(key);
          return r.get(key);
        }

        @Override
        public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
          check();
          CloseableIterator<Entry> it = r.scan(fromInclusive, toExclusive);
          iterators.add(it);
          return GuardedIterator.of(it, CheckedReadView.this::check);
        }
      };
    }

    @Override
    public Transaction.LogReader log(String name) {
      check();
      ArgumentChecks.check(StoreKind.LOG, name);
      Transaction.LogReader r = d.log(name);
      return new Transaction.LogReader() {
        @Override
        public List<LogRecord> read(long fromOffset, int maxRecords) {
          check();
          ArgumentChecks.checkOffset("fromOffset", fromOffset);
          ArgumentChecks.checkMaxRecords(maxRecords);
          return r.read(fromOffset, maxRecords);
        }

        @Override
        public long firstOffset() {
          check();
          return r.firstOffset();
        }

        @Override
        public long nextOffset() {
          check();
          return r.nextOffset();
        }
      };
    }
  }
}
