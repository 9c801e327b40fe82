package io.cairn.persistence;

import com.codahale.metrics.CachedGauge;
import com.codahale.metrics.Clock;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.LockFreeExponentiallyDecayingReservoir;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.spi.CoarseClock;
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
 * Wraps a backend so every store operation is timed under {@code
 * cairn.<backend>.<kind>.<store>.<op>} and each store's size is a gauge. The one place metrics are
 * added for every backend; backends only add engine-specific gauges.
 */
final class InstrumentedBackend implements StorageBackend {
  private final StorageBackend delegate;
  private final MetricRegistry metrics;
  private final String prefix;
  private final ConcurrentMap<String, KeyValueStore> kv = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, LogStore> logs = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, SnapshotStore> snaps = new ConcurrentHashMap<>();
  private final Timer transactions;
  private final CoarseClock coarseClock; // acquired here, released by close()
  private volatile boolean closed;

  InstrumentedBackend(StorageBackend delegate, MetricRegistry metrics, String prefix) {
    this.delegate = delegate;
    this.metrics = metrics;
    this.prefix = prefix;
    this.coarseClock = CoarseClock.acquire();
    try {
      this.transactions = timer(prefix + ".transaction");
    } catch (RuntimeException e) {
      coarseClock.release();
      throw e;
    }
  }

  /**
   * A timer cheap enough to wrap every store operation. The lock-free decaying reservoir, because
   * the default one takes a lock on every update; its decay and the rate meter (both in seconds) on
   * the {@link CoarseClock}, because every clock read costs about 45 ns on a virtual machine and a
   * default timer reads the clock four times per operation. The duration itself is measured with
   * the exact clock (two reads).
   */
  private Timer timer(String name) {
    Clock coarse = coarseClock.metricsClock();
    return metrics.timer(
        name,
        () ->
            new Timer(
                new Meter(coarse),
                new Histogram(
                    LockFreeExponentiallyDecayingReservoir.builder().clock(coarse).build()),
                Clock.defaultClock()));
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
    KeyValueStore existing = kv.get(namespace);
    if (existing != null) {
      return existing;
    }
    KeyValueStore store = delegate.keyValue(namespace);
    return kv.computeIfAbsent(namespace, n -> new Kv(store, base(StoreKind.KEY_VALUE, n)));
  }

  @Override
  public LogStore log(String name) {
    ensureOpen();
    LogStore existing = logs.get(name);
    if (existing != null) {
      return existing;
    }
    LogStore store = delegate.log(name);
    return logs.computeIfAbsent(name, n -> new Log(store, base(StoreKind.LOG, n)));
  }

  @Override
  public SnapshotStore snapshots(String name) {
    ensureOpen();
    SnapshotStore existing = snaps.get(name);
    if (existing != null) {
      return existing;
    }
    SnapshotStore store = delegate.snapshots(name);
    return snaps.computeIfAbsent(name, n -> new Snap(store, base(StoreKind.SNAPSHOT, n)));
  }

  private String base(StoreKind kind, String store) {
    return prefix + "." + kind.shortName() + "." + store;
  }

  @Override
  public <T> T inTransaction(Transaction.Work<T> work) {
    try (Timer.Context ignored = transactions.time()) {
      return delegate.inTransaction(work);
    }
  }

  @Override
  public SortedSet<StoreId> stores() {
    return delegate.stores();
  }

  @Override
  public BackendStats stats() {
    return delegate.stats();
  }

  @Override
  public VerifyReport verify(Progress progress) {
    return delegate.verify(progress);
  }

  @Override
  public void compact(Progress progress) {
    delegate.compact(progress);
  }

  @Override
  public void checkpoint(Path target, Progress progress) {
    delegate.checkpoint(target, progress);
  }

  @Override
  public HealthCheck.Result health() {
    try {
      return delegate.health();
    } catch (RuntimeException e) {
      return HealthCheck.Result.unhealthy(e);
    }
  }

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

  private <T> T timed(Timer timer, Supplier<T> op) {
    try (Timer.Context ignored = timer.time()) {
      return op.get();
    }
  }

  private void sizeGauge(String base, Supplier<Long> size) {
    String name = base + ".entries";
    if (!metrics.getGauges().containsKey(name)) {
      try {
        metrics.register(
            name,
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
      } catch (IllegalArgumentException raced) {
        // registered by a concurrent first use; fine
      }
    }
  }

  private final class Kv implements KeyValueStore {
    private final KeyValueStore d;
    private final Timer get;
    private final Timer put;
    private final Timer cas;
    private final Timer delete;
    private final Timer putAll;
    private final Timer scan;
    private final Timer purge;

    Kv(KeyValueStore d, String base) {
      this.d = d;
      get = timer(base + ".get");
      put = timer(base + ".put");
      cas = timer(base + ".cas");
      delete = timer(base + ".delete");
      putAll = timer(base + ".put-all");
      scan = timer(base + ".scan");
      purge = timer(base + ".purge-expired");
      sizeGauge(base, d::approximateCount);
    }

    @Override
    public String name() {
      return d.name();
    }

    @Override
    public Optional<Entry> getEntry(byte[] key) {
      return timed(get, () -> d.getEntry(key));
    }

    @Override
    public byte[] get(byte[] key) {
      return timed(get, () -> d.get(key));
    }

    @Override
    public long put(byte[] key, byte[] value) {
      try (Timer.Context ignored = put.time()) {
        return d.put(key, value);
      }
    }

    @Override
    public long put(byte[] key, byte[] value, Duration ttl) {
      try (Timer.Context ignored = put.time()) {
        return d.put(key, value, ttl);
      }
    }

    @Override
    public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
      try (Timer.Context ignored = cas.time()) {
        return d.compareAndSet(key, expectedVersion, value, ttl);
      }
    }

    @Override
    public boolean delete(byte[] key) {
      try (Timer.Context ignored = delete.time()) {
        return d.delete(key);
      }
    }

    @Override
    public void compareAndDelete(byte[] key, long expectedVersion) {
      try (Timer.Context ignored = delete.time()) {
        d.compareAndDelete(key, expectedVersion);
      }
    }

    @Override
    public void putAll(Collection<KeyValue> entries) {
      try (Timer.Context ignored = putAll.time()) {
        d.putAll(entries);
      }
    }

    @Override
    public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
      return timed(scan, () -> d.scan(fromInclusive, toExclusive));
    }

    @Override
    public CloseableIterator<Entry> scanPrefix(byte[] prefix) {
      return timed(scan, () -> d.scanPrefix(prefix));
    }

    @Override
    public long purgeExpired() {
      return timed(purge, d::purgeExpired);
    }

    @Override
    public long approximateCount() {
      return d.approximateCount();
    }
  }

  private final class Log implements LogStore {
    private final LogStore d;
    private final Timer append;
    private final Timer appendAll;
    private final Timer read;
    private final Timer truncate;

    Log(LogStore d, String base) {
      this.d = d;
      append = timer(base + ".append");
      appendAll = timer(base + ".append-all");
      read = timer(base + ".read");
      truncate = timer(base + ".truncate");
      sizeGauge(base, () -> d.nextOffset() - d.firstOffset());
    }

    @Override
    public String name() {
      return d.name();
    }

    @Override
    public long append(byte[] payload) {
      try (Timer.Context ignored = append.time()) {
        return d.append(payload);
      }
    }

    @Override
    public long appendAll(List<byte[]> payloads) {
      try (Timer.Context ignored = appendAll.time()) {
        return d.appendAll(payloads);
      }
    }

    @Override
    public List<LogRecord> read(long fromOffset, int maxRecords) {
      return timed(read, () -> d.read(fromOffset, maxRecords));
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
      try (Timer.Context ignored = truncate.time()) {
        return d.truncateBefore(offset);
      }
    }
  }

  private final class Snap implements SnapshotStore {
    private final SnapshotStore d;
    private final Timer save;
    private final Timer load;
    private final Timer list;
    private final Timer delete;

    Snap(SnapshotStore d, String base) {
      this.d = d;
      save = timer(base + ".save");
      load = timer(base + ".load");
      list = timer(base + ".list");
      delete = timer(base + ".delete");
      sizeGauge(base, () -> (long) d.list().size());
    }

    @Override
    public String name() {
      return d.name();
    }

    @Override
    public SnapshotInfo save(long version, InputStream data) {
      return timed(save, () -> d.save(version, data));
    }

    @Override
    public Optional<SnapshotInfo> latest() {
      return timed(list, d::latest);
    }

    @Override
    public InputStream load(long version) {
      return timed(load, () -> d.load(version));
    }

    @Override
    public List<SnapshotInfo> list() {
      return timed(list, d::list);
    }

    @Override
    public boolean delete(long version) {
      try (Timer.Context ignored = delete.time()) {
        return d.delete(version);
      }
    }

    @Override
    public int retainLatest(int n) {
      return timed(delete, () -> d.retainLatest(n));
    }
  }
}
