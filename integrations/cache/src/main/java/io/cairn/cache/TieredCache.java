package io.cairn.cache;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.codahale.metrics.health.HealthCheck;
import com.codahale.metrics.health.HealthCheckRegistry;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.cairn.persistence.ClosedException;
import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.Entry;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.CoarseClock;
import io.cairn.persistence.spi.Settings;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.StampedLock;
import java.util.function.Function;
import java.util.function.LongUnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A two-tier cache: a Caffeine in-memory tier (L1) in front of a key-value namespace on a backend
 * (L2), configured under {@code cairn.cache.<name>}. Keys and values pass through {@link Codec}s on
 * their way to L2; L1 holds the objects themselves.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li><b>Read-through.</b> {@link #get(Object, Function)} answers from L1, else L2, else the
 *       loader, and fills the tiers above the one that answered. Concurrent misses on one key call
 *       the loader once (single flight); the others wait for its result or its exception.
 *   <li><b>Write-through.</b> {@link #put} writes L2 (with the TTL) and then L1.
 *   <li><b>TTL.</b> An entry expires {@code ttl} after it was written, in both tiers. The L2 expiry
 *       is stored with the entry, so an entry whose TTL passed while the service was down is never
 *       served after a restart. L1 never serves an entry past its L2 expiry: an L1 copy filled from
 *       L2 keeps the L2 entry's remaining life. With {@code l1.coarse-clock = true} (the default,
 *       on the system clock) a hit checks nothing: the shared thread {@code cairn-cache-expiry}
 *       ({@code L1Sweeper}) removes each copy when its expiry passes, so a copy may be served up to
 *       that thread's lag past it (normally under a millisecond; longer if the thread is starved or
 *       very many copies expire at once), never dropped early. With {@code false}, or a registry
 *       built with its own {@link Clock}, every hit compares the clock with the earliest recorded
 *       expiry and removes the due copies first, so no copy is served at or after its expiry.
 *       Expiry records live beside L1 ({@code L1Deadlines}), not in a holder per value.
 *   <li><b>Validation.</b> An optional {@link CacheValidator} is asked on every hit; a rejected
 *       value is dropped from both tiers and the lookup continues as a miss.
 *   <li><b>Degradation.</b> If L2 fails (disk full, corruption, closed backend), the cache keeps
 *       serving from L1 and the loader, reports itself degraded in {@link #stats()} and in its
 *       health check {@code cairn.caches.<name>}, logs once, and retries L2 with backoff until it
 *       recovers; L2 never serves a value older than one written during the outage (see {@code
 *       L2Tier}). Loader exceptions are not L2 failures: they propagate to the callers.
 *   <li><b>Invalidation and overwrite.</b> {@link #invalidate} removes the key from both tiers,
 *       {@link #put} replaces it in both; a load of that key running at the same time still returns
 *       its value to its callers but caches it in neither tier. A read that starts after {@code
 *       invalidate} or {@code put} returned never answers a value from before it (per-key write
 *       sequence, see the comment at {@code STRIPES}); a caller arriving while a load that began
 *       before such a write still runs waits for it and then loads again, so the loader runs at
 *       most once at a time per key.
 *   <li><b>Bounds.</b> L1 holds at most {@code l1.max-entries} entries and {@code l1.max-weight}
 *       bytes of encoded values (default 64MiB). A value encoding to more than {@code
 *       max-value-size} bytes is refused by {@link #put} ({@link IllegalArgumentException}) and,
 *       from a loader, returned but not cached (metric {@code oversize-loads}).
 * </ul>
 *
 * <p>Thread-safe. A {@code null} from a loader is returned and not cached. After {@link #close()}
 * every method throws {@link ClosedException}.
 *
 * @param <K> key type; must have value-based {@code equals}/{@code hashCode} (L1 is a hash map)
 * @param <V> value type
 */
public final class TieredCache<K, V> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TieredCache.class);

  /** Caches open in this process, per backend instance (two L1s over one L2 would diverge). */
  private static final Map<StorageBackend, Set<String>> OPEN = new WeakHashMap<>();

  private final CacheSettings settings;
  private final StorageBackend backend;
  private final Codec<K> keys;
  private final Codec<V> values;
  private final CacheValidator<? super K, ? super V> validator;
  private final Clock clock;

  private final CoarseClock coarseClock; // null: expiry checks read {@code clock} exactly

  /**
   * The in-memory tier. It holds the values themselves (no per-value holder); their expiry is
   * recorded in {@link #deadlines} and enforced by {@link #sweeper} or, on an exact clock, by each
   * hit comparing the clock with {@link L1Deadlines#next()} (see {@link #liveL1}).
   */
  private final Cache<K, V> l1;

  private final L1Deadlines<K> deadlines = new L1Deadlines<>();

  /** Removes due L1 copies off the hit path; null when hits check expiry themselves. */
  private final L1Sweeper sweeper;

  private final LongUnaryOperator sweep = this::sweep; // registered with sweeper

  /** Whether a hit is served without checks: expiry enforced by the sweeper, no validator. */
  private final boolean unchecked;

  private final Object expiring = new Object(); // one thread at a time removes due L1 copies
  private final L2Tier l2;
  private final Duration ttl;
  private final ConcurrentHashMap<K, Flight<V>> loading = new ConcurrentHashMap<>();
  private final MetricRegistry metrics;
  private final HealthCheckRegistry healthChecks;
  private final String prefix;
  private final List<String> metricNames = new ArrayList<>();
  private final Timer loadTimer;
  private final LongAdder l1Hits = new LongAdder();
  private final LongAdder l1Misses = new LongAdder();
  private final LongAdder l1Evictions = new LongAdder();
  private final LongAdder l2Hits = new LongAdder();
  private final LongAdder l2Misses = new LongAdder();
  private final LongAdder loads = new LongAdder();
  private final LongAdder loadFailures = new LongAdder();
  private final LongAdder loadNanos = new LongAdder();
  private final LongAdder rejected = new LongAdder();
  private final LongAdder oversizeLoads = new LongAdder();
  private final AtomicBoolean oversizeLogged = new AtomicBoolean();
  private volatile boolean closed;

  /** Test-only interleaving points (see {@link CacheHooks}); set before use. */
  private CacheHooks hooks = CacheHooks.NONE;

  /** A running L2 lookup and load of one key; {@code withLoader} false for getIfPresent. */
  /**
   * A running L2 lookup and load of one key; {@code withLoader} false for getIfPresent; {@code seq}
   * the key's write sequence ({@link #seq}) read before it began.
   */
  private record Flight<V>(CompletableFuture<V> future, boolean withLoader, long seq) {}

  /*
   * Write sequence (issue 20 item 1: no value older than a finished put or invalidate is ever
   * served or cached).
   *
   * Every write of a key (put, invalidate, invalidateAll, dropping an unreadable or rejected L2
   * entry) runs under its stripe's monitor and increments seq[stripe(key)] before touching a tier
   * (the sequence is then odd) and again after (even). A fill of L1 or L2 with a value read from L2
   * or produced by the loader reads the sequence *before* reading L2 and stores only if the
   * sequence is still that even number at the moment of storing:
   *  - an L1 fill checks it inside l1.asMap().compute(key): a write's own L1 step on the same key
   *    is serialised with that compute, so the fill either happened before the write's L1 step
   *    (and is overwritten or removed by it) or sees the write's first increment and stores
   *    nothing;
   *  - the write-back of a loaded value to L2 and L1 holds the stripe monitor while it checks and
   *    writes, so no write of the key can start or run between the check and the L2 write (the
   *    "checked, then wrote the old value to L2 after invalidate" window); one process owns an L2
   *    namespace (see OPEN), so an in-process monitor is enough, no L2 compare-and-set needed.
   * A running load whose sequence is no longer current is not joined by later callers: they wait
   * for it to finish and then load themselves, so the loader runs at most once at a time per key
   * and a caller arriving after invalidate never gets a value loaded before it.
   * invalidateAll takes `clearing` exclusively (writes take it shared) and moves every stripe.
   * Stripes are shared by keys: a write of one key also refuses concurrent fills of the other keys
   * of its stripe (a lost fill, never a wrong value). Nothing here is on the L1 hit path.
   */
  private static final int STRIPES = 1024;

  private final AtomicLongArray seq = new AtomicLongArray(STRIPES);
  private final Object[] stripeLocks = new Object[STRIPES];
  private final StampedLock clearing = new StampedLock();

  private static int stripe(Object key) {
    return (key.hashCode() * 0x9E3779B9) >>> (32 - 10); // STRIPES = 2^10
  }

  /** Runs {@code write} as a write of the keys of stripe {@code s} (see the comment above). */
  private void write(int s, Runnable write) {
    long stamp = clearing.readLock();
    try {
      synchronized (stripeLocks[s]) {
        seq.incrementAndGet(s);
        try {
          write.run();
        } finally {
          seq.incrementAndGet(s);
        }
      }
    } finally {
      clearing.unlockRead(stamp);
    }
  }

  private TieredCache(
      CacheSettings settings,
      StorageBackend backend,
      Codec<K> keys,
      Codec<V> values,
      CacheValidator<? super K, ? super V> validator,
      Clock clock,
      MetricRegistry metrics,
      HealthCheckRegistry healthChecks) {
    this.settings = settings;
    this.backend = backend;
    this.keys = keys;
    this.values = values;
    this.validator = validator;
    this.clock = clock;
    this.ttl = settings.ttl().isZero() ? null : settings.ttl();
    this.metrics = metrics;
    this.healthChecks = healthChecks;
    this.prefix = "cairn.caches." + settings.name();
    this.l2 =
        settings.l2Enabled()
            ? new L2Tier(
                settings.name(),
                backend.keyValue(namespace(settings.name())),
                clock,
                settings.l2RetryInitial(),
                settings.l2RetryMax())
            : null;
    this.l1 = buildL1(settings);
    for (int i = 0; i < STRIPES; i++) {
      stripeLocks[i] = new Object();
    }
    this.loadTimer = metrics.timer(prefix + ".load");
    metricNames.add(prefix + ".load");
    // last, so that nothing can fail after the refresher was acquired; close() releases it
    this.coarseClock =
        settings.l1CoarseClock() && CoarseClock.mirrors(clock) ? CoarseClock.acquire() : null;
    this.sweeper = coarseClock != null ? L1Sweeper.register(sweep) : null;
    this.unchecked = sweeper != null && validator == null;
  }

  /** L2 namespace of cache {@code name}. */
  static String namespace(String name) {
    return "cache." + name;
  }

  private Cache<K, V> buildL1(CacheSettings s) {
    Caffeine<Object, Object> b = Caffeine.newBuilder();
    if (s.l1MaxWeight() > 0) {
      // Both bounds with one Caffeine weight: an entry weighs its encoded size, at least
      // max-weight / max-entries, so the total of sizes stays <= max-weight and the count <=
      // max-entries (issue 20 item 7: a count bound alone let 16 values of 50 MB fill the heap).
      b.maximumWeight(s.l1MaxWeight());
    } else {
      b.maximumSize(s.l1MaxEntries());
    }
    b.evictionListener(
        (Object k, Object v, RemovalCause cause) -> {
          if (cause.wasEvicted()) {
            l1Evictions.increment();
          }
        });
    Caffeine<K, V> typed =
        weighed(b, s.l1MaxWeight() > 0, ceilDiv(s.l1MaxWeight(), s.l1MaxEntries()));
    // The TTL (each copy's L2 expiry) is enforced outside Caffeine, by deadlines and the sweeper
    // (or one compare per hit on an exact clock). Caffeine runs without expiry, its cheapest read
    // path, unless l1.expire-after-write or l1.expire-after-access ask for an L1-only lifetime;
    // then it uses fixed expiry on the hit clock (write bound = min of those and the ttl), which
    // reads that clock on every hit (a slower hit path; memory-constrained uses it). Measured on
    // this project's VMs (RESULTS-integrations.md): Caffeine variable expiry (expireAfter(Expiry))
    // on the coarse clock costs about twice the instructions of a raw hit, so it is not used.
    long afterWrite = s.l1ExpireAfterWrite().toNanos();
    long afterAccess = s.l1ExpireAfterAccess().toNanos();
    if (afterWrite > 0 || afterAccess > 0) {
      typed.ticker(() -> TimeUnit.MILLISECONDS.toNanos(now()));
      if (afterWrite > 0) {
        long writeLife = ttl == null ? afterWrite : Math.min(saturatedNanos(ttl), afterWrite);
        typed.expireAfterWrite(writeLife, TimeUnit.NANOSECONDS);
      }
      if (afterAccess > 0) {
        typed.expireAfterAccess(afterAccess, TimeUnit.NANOSECONDS);
      }
    }
    return typed.build();
  }

  private static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  /** Epoch ms for expiry checks on a hit: the shared {@link CoarseClock}, or the exact clock. */
  private long now() {
    CoarseClock c = coarseClock;
    return c != null ? c.millis() : clock.millis();
  }

  /**
   * Removes every L1 copy whose expiry is at or before {@code now} (only the copy each deadline was
   * recorded for, not a newer one), then advances {@link L1Deadlines#next()}. Concurrent callers
   * wait, so that none serves a due copy this call has yet to remove.
   */
  private void expireDue(long now) {
    synchronized (expiring) {
      if (now < deadlines.next()) {
        return; // another thread just did it
      }
      List<L1Deadlines.Due<K>> due = deadlines.pollDue(now);
      int done = 0;
      try {
        for (; done < due.size(); done++) {
          L1Deadlines.Due<K> d = due.get(done);
          V v = l1.policy().getIfPresentQuietly(d.key());
          if (v != null && d.matches(v)) {
            l1.asMap().remove(d.key(), v);
          }
        }
      } catch (RuntimeException e) {
        // e.g. a key's hashCode failed: keep the records not processed, so a retry removes them
        // (next() was not advanced, so hits keep checking and the sweeper retries)
        deadlines.restore(due.subList(done, due.size()));
        throw e;
      }
      deadlines.updateNext();
    }
  }

  /**
   * Records the expiry of a copy just stored in L1 (after it became visible; see {@link
   * L1Deadlines}). {@code expiresAt} 0: none.
   */
  private void expiresL1(K key, V value, long expiresAt) {
    if (expiresAt != 0) {
      deadlines.add(
          key, value, expiresAt, l1.estimatedSize(), k -> l1.policy().getIfPresentQuietly(k));
      if (sweeper != null) {
        sweeper.wake(expiresAt);
      }
    }
  }

  /**
   * For the sweeper: removes the copies due at {@code now} (epoch ms, system clock; {@link
   * Long#MIN_VALUE}: none) and returns the earliest remaining expiry.
   */
  private long sweep(long now) {
    if (!closed && now >= deadlines.next()) {
      expireDue(now);
    }
    return deadlines.next();
  }

  /**
   * Stores {@code value} ({@code size} encoded bytes) in L1 with its expiry (epoch ms, 0 = none),
   * replacing any copy.
   */
  private void putL1(K key, V value, int size, long expiresAt) {
    storing(size, () -> l1.put(key, value));
    expiresL1(key, value, expiresAt);
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /**
   * The encoded size of the value being stored into L1 by this thread, for the weigher (-1: not
   * known). Every L1 store has the encoded bytes at hand (it wrote or read them for L2); Caffeine
   * calls the weigher on the storing thread, so handing the size over here saves encoding the value
   * a second time. A store without it (none today) falls back to encoding.
   */
  private static final ThreadLocal<int[]> STORING_SIZE =
      ThreadLocal.withInitial(() -> new int[] {-1});

  @SuppressWarnings("unchecked")
  private Caffeine<K, V> weighed(Caffeine<Object, Object> b, boolean byWeight, long minWeight) {
    if (byWeight) {
      int min = (int) Math.min(Integer.MAX_VALUE, Math.max(1, minWeight));
      return b.weigher(
          (Object k, Object v) -> {
            int[] size = STORING_SIZE.get();
            int bytes = size[0] >= 0 ? size[0] : values.encode((V) v).length;
            return Math.max(min, bytes);
          });
    }
    return (Caffeine<K, V>) (Caffeine<?, ?>) b;
  }

  /** Runs an L1 store of a value of {@code size} encoded bytes (see {@link #STORING_SIZE}). */
  private static void storing(int size, Runnable store) {
    int[] s = STORING_SIZE.get();
    s[0] = size;
    try {
      store.run();
    } finally {
      s[0] = -1;
    }
  }

  /**
   * Opens cache {@code name} as configured under {@code cairn.cache.<name>} (over its profile and
   * {@code cairn.cache-defaults}). The caller owns it and must {@link #close()} it before closing
   * the registry; to have caches closed with the registry use {@link TieredCaches}.
   *
   * @throws io.cairn.persistence.ConfigurationException if the cache is not configured or its
   *     settings are invalid (every problem, with path and file:line)
   * @throws PersistenceException if a cache of that name is already open on that backend
   */
  public static <K, V> TieredCache<K, V> open(
      PersistenceRegistry registry, String name, Codec<K> keyCodec, Codec<V> valueCodec) {
    return open(registry, name, keyCodec, valueCodec, null);
  }

  /** As {@link #open(PersistenceRegistry, String, Codec, Codec)} with a validator (may be null). */
  public static <K, V> TieredCache<K, V> open(
      PersistenceRegistry registry,
      String name,
      Codec<K> keyCodec,
      Codec<V> valueCodec,
      CacheValidator<? super K, ? super V> validator) {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(keyCodec, "keyCodec");
    Objects.requireNonNull(valueCodec, "valueCodec");
    List<ConfigProblem> problems = new ArrayList<>();
    CacheSettings s = CacheSettings.read(registry.config(), name, problems);
    Settings.throwIfAny(problems);
    StorageBackend backend = registry.backend(s.backend());
    synchronized (OPEN) {
      if (!OPEN.computeIfAbsent(backend, b -> new HashSet<>()).add(name)) {
        throw new PersistenceException(
            "Cache '"
                + name
                + "' is already open on backend '"
                + backend.name()
                + "' in this process; share that instance (TieredCaches.cache(...)) or close it"
                + " first.");
      }
    }
    TieredCache<K, V> c = null;
    try {
      c =
          new TieredCache<>(
              s,
              backend,
              keyCodec,
              valueCodec,
              validator,
              registry.clock(),
              registry.metrics(),
              registry.healthChecks());
      c.register();
      return c;
    } catch (RuntimeException e) {
      if (c != null) {
        c.close(); // releases the shared clock and what register() did
      }
      release(backend, name);
      throw e;
    }
  }

  /**
   * Opens cache {@code name} with UTF-8 string keys and raw byte values; otherwise as {@link
   * #open(PersistenceRegistry, String, Codec, Codec)}.
   */
  public static TieredCache<String, byte[]> openRaw(PersistenceRegistry registry, String name) {
    return open(registry, name, RawCodecs.KEYS, RawCodecs.VALUES);
  }

  private static void release(StorageBackend backend, String name) {
    synchronized (OPEN) {
      Set<String> names = OPEN.get(backend);
      if (names != null) {
        names.remove(name);
      }
    }
  }

  private void register() {
    // counts of events are Counters (reporters derive rates); levels are Gauges
    count("l1.hits", l1Hits::sum);
    count("l1.misses", l1Misses::sum);
    count("l1.evictions", l1Evictions::sum);
    gauge("l1.size", l1::estimatedSize);
    count("l2.hits", l2Hits::sum);
    count("l2.misses", l2Misses::sum);
    count("l2.errors", () -> l2 == null ? 0 : l2.errors());
    count("loads", loads::sum);
    count("load-failures", loadFailures::sum);
    count("rejected", rejected::sum);
    count("oversize-loads", oversizeLoads::sum);
    gauge("degraded", () -> l2 != null && l2.degraded() ? 1L : 0L);
    healthChecks.unregister(prefix);
    healthChecks.register(
        prefix,
        new HealthCheck() {
          @Override
          protected Result check() {
            if (closed) {
              return Result.unhealthy("cache '" + settings.name() + "' is closed");
            }
            return l2 == null
                ? Result.healthy("cache '" + settings.name() + "': L1 only (l2.enabled = false)")
                : l2.health();
          }
        });
  }

  private void gauge(String suffix, Gauge<Long> g) {
    String n = prefix + "." + suffix;
    metrics.remove(n);
    metrics.register(n, g);
    metricNames.add(n);
  }

  private void count(String suffix, java.util.function.LongSupplier source) {
    String n = prefix + "." + suffix;
    io.cairn.persistence.spi.Counts.register(metrics, n, source);
    metricNames.add(n);
  }

  /** The cache's name. */
  public String name() {
    return settings.name();
  }

  /** Name of the backend holding the L2 tier. */
  public String backendName() {
    return backend.name();
  }

  /**
   * The value from L1 or L2, without loading; {@code null} if neither has a live, valid one. An L2
   * hit is copied into L1.
   */
  public V getIfPresent(K key) {
    // The hit path (see the class comment on expiry): a Caffeine lookup and a LongAdder count,
    // no clock or other volatile read, no holder object. Kept small so that it inlines into
    // callers; the rest is in checked().
    V v = l1.getIfPresent(key);
    if (v != null && unchecked) {
      l1Hits.increment();
      return v;
    }
    return checked(key, v, null);
  }

  /**
   * The value for {@code key}: from L1, else L2, else {@code loader} (called at most once at a time
   * per key across threads; its result is written to both tiers with the cache's TTL).
   *
   * @throws RuntimeException whatever the loader threw (checked exceptions wrapped in {@link
   *     CompletionException}), to every caller waiting on that load
   */
  public V get(K key, Function<? super K, ? extends V> loader) {
    Objects.requireNonNull(loader, "loader");
    V v = l1.getIfPresent(key);
    if (v != null && unchecked) {
      l1Hits.increment();
      return v;
    }
    return checked(key, v, loader);
  }

  /**
   * After an L1 lookup found {@code v} (null: a miss) and the hit needs checks (an exact clock or a
   * validator): the value served, else L2 and the loader (if any).
   */
  private V checked(K key, V v, Function<? super K, ? extends V> loader) {
    if (v != null) {
      V served = served(key);
      if (served != null) {
        return served;
      }
    }
    return missed(key, loader);
  }

  /**
   * The L1 copy of {@code key} if it may be served (live and valid), counted as a hit; else null,
   * after removing due copies or rejecting an invalid one. L1 never holds null values.
   */
  private V served(K key) {
    V v = liveL1(key);
    if (v == null) {
      return null;
    }
    if (validator == null || validator.isValid(key, v)) {
      l1Hits.increment();
      return v;
    }
    reject(key);
    return null;
  }

  /** The L1 copy of {@code key} if it has not expired (removing due copies first); else null. */
  private V liveL1(K key) {
    while (true) {
      // next() before the lookup: a copy removed as due is then either not found or found with a
      // due time that has passed (the other way round, a copy could be read just before its
      // removal and checked against the advanced next()).
      long due = deadlines.next();
      V v = l1.getIfPresent(key);
      if (v == null) {
        return null;
      }
      long now = now();
      if (now < due) {
        return v;
      }
      expireDue(now);
    }
  }

  /** An L1 miss: counted, then L2 and (if any) the loader. */
  private V missed(K key, Function<? super K, ? extends V> loader) {
    ensureOpen();
    l1Misses.increment();
    return load(key, loader);
  }

  private void reject(K key) {
    rejected.increment();
    invalidate(key);
  }

  /** L1 missed: single-flight lookup in L2, then the loader (if any). */
  private V load(K key, Function<? super K, ? extends V> loader) {
    Objects.requireNonNull(key, "key");
    int s = stripe(key);
    while (true) {
      long before = seq.get(s);
      Flight<V> mine = new Flight<>(new CompletableFuture<>(), loader != null, before);
      Flight<V> running = loading.putIfAbsent(key, mine);
      if (running != null) {
        if (running.seq() != before) {
          // began before a write of this key: its value may predate that write, and loading
          // beside it would call the loader twice at once; wait for it, then look again
          hooks.at(CacheHooks.Step.FLIGHT_WAIT, key);
          running.future().handle((v, e) -> null).join();
          continue;
        }
        V v = join(running.future());
        if (v != null || running.withLoader() || loader == null) {
          return v;
        }
        continue; // a getIfPresent found nothing; this caller has a loader: load
      }
      V v;
      try {
        v = loadOwned(key, loader, s, before);
      } catch (RuntimeException | Error e) {
        loading.remove(key, mine); // before completing, so that waiters find the key free
        mine.future().completeExceptionally(e);
        throw e;
      }
      loading.remove(key, mine);
      mine.future().complete(v);
      return v;
    }
  }

  private static <V> V join(CompletableFuture<V> running) {
    try {
      return running.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw e;
    }
  }

  /** The load of {@code key} by the flight owner; {@code before} is seq[s] read before it. */
  private V loadOwned(K key, Function<? super K, ? extends V> loader, int s, long before) {
    V cached = liveL1(key);
    if (cached != null && (validator == null || validator.isValid(key, cached))) {
      return cached;
    }
    byte[] k = keys.encode(key);
    if (l2 != null) {
      Optional<Entry> e = l2.get(k);
      hooks.at(CacheHooks.Step.L2_READ, key);
      if (e != L2Tier.UNAVAILABLE && e.isPresent()) {
        V v = decodeOrDrop(key, e.get(), s, before);
        if (v != null) {
          if (validator == null || validator.isValid(key, v)) {
            l2Hits.increment();
            fillL1(key, v, e.get().value().length, e.get().expiresAtMillis(), s, before);
            return v;
          }
          rejected.increment();
          dropIfCurrent(key, k, s, before);
        }
      }
    }
    l2Misses.increment();
    if (loader == null) {
      return null;
    }
    long start = System.nanoTime();
    V v;
    try {
      v = loader.apply(key);
    } catch (RuntimeException | Error e) {
      loadFailures.increment();
      record(start);
      throw e;
    }
    loads.increment();
    record(start);
    if (v == null) {
      return null;
    }
    byte[] encoded = values.encode(v);
    if (encoded.length > settings.maxValueSize()) {
      oversizeLoads.increment();
      if (oversizeLogged.compareAndSet(false, true)) {
        log.warn(
            "{}; a loaded value that large is returned to its callers and not cached (further"
                + " ones are counted in {}.oversize-loads, not logged)",
            oversize(key, encoded.length),
            prefix);
      }
      return v;
    }
    long expiresAt = expiresAt();
    hooks.at(CacheHooks.Step.LOAD_WRITE_BACK, key);
    writeBack(key, k, v, encoded, expiresAt, s, before);
    return v;
  }

  /**
   * Writes a loaded value to L2 and L1 if no write of its stripe began since {@code before} was
   * read (checked and written under the stripe monitor: see the write-sequence comment).
   */
  private void writeBack(K key, byte[] k, V v, byte[] encoded, long expiresAt, int s, long before) {
    if ((before & 1) != 0 || seq.get(s) != before) {
      return; // a write began during the load: return the value to the callers, cache nothing
    }
    long stamp = clearing.readLock();
    try {
      synchronized (stripeLocks[s]) {
        if (seq.get(s) != before) {
          return;
        }
        if (l2 != null) {
          l2.put(k, encoded, ttl);
        }
        hooks.at(CacheHooks.Step.LOAD_L2_WRITTEN, key);
        if (expiresAt == 0 || expiresAt > clock.millis()) {
          putL1(key, v, encoded.length, expiresAt);
        }
      }
    } finally {
      clearing.unlockRead(stamp);
    }
  }

  /**
   * Puts a value read from L2 into L1 with expiry {@code expiresAt} (epoch ms, 0 = none) if no
   * write of its stripe began since {@code before} was read (before reading L2); returns whether it
   * did.
   */
  private boolean fillL1(K key, V v, int size, long expiresAt, int s, long before) {
    if ((before & 1) != 0 || (expiresAt != 0 && expiresAt <= clock.millis())) {
      return false; // read during a write, or expired before it could be cached: serve only
    }
    boolean[] stored = {false};
    storing(
        size,
        () ->
            l1.asMap()
                .compute(
                    key,
                    (kk, old) -> {
                      if (seq.get(s) != before) {
                        return old;
                      }
                      stored[0] = true;
                      return v;
                    }));
    if (stored[0]) {
      expiresL1(key, v, expiresAt);
    }
    return stored[0];
  }

  /**
   * Removes {@code key} from both tiers as a write, unless a write of its stripe began since {@code
   * before} (then the entry that was read may already be replaced, and is not this caller's to
   * drop).
   */
  private void dropIfCurrent(K key, byte[] k, int s, long before) {
    long stamp = clearing.readLock();
    try {
      synchronized (stripeLocks[s]) {
        if (seq.get(s) != before) {
          return;
        }
        seq.incrementAndGet(s);
        try {
          l1.invalidate(key);
          l2.delete(k);
        } finally {
          seq.incrementAndGet(s);
        }
      }
    } finally {
      clearing.unlockRead(stamp);
    }
  }

  private V decodeOrDrop(K key, Entry e, int s, long before) {
    try {
      return values.decode(e.value());
    } catch (PersistenceException | IllegalArgumentException ex) {
      // An undecodable L2 value (old format, corruption) is dropped and treated as a miss.
      dropIfCurrent(key, e.key(), s, before);
      return null;
    }
  }

  private String oversize(K key, int bytes) {
    String k = String.valueOf(key);
    return "Cache '"
        + settings.name()
        + "': the value for key '"
        + (k.length() > 64 ? k.substring(0, 64) + "..." : k)
        + "' encodes to "
        + bytes
        + " bytes, more than max-value-size ("
        + settings.maxValueSize()
        + " bytes, "
        + CacheSettings.CACHES
        + "."
        + settings.name()
        + ".max-value-size); raise that setting or keep values that large out of the cache";
  }

  private void record(long start) {
    long nanos = System.nanoTime() - start;
    loadNanos.add(nanos);
    loadTimer.update(nanos, TimeUnit.NANOSECONDS);
  }

  private long expiresAt() {
    if (ttl == null) {
      return 0;
    }
    long now = clock.millis();
    long at = now + ttl.toMillis();
    return at < now ? Long.MAX_VALUE : at;
  }

  /**
   * Writes {@code value} to L2 (with the TTL) and L1, replacing any value. A load of the key
   * running meanwhile still answers its callers but caches nothing; a read that starts after this
   * returns never answers an older value.
   */
  public void put(K key, V value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    ensureOpen();
    byte[] encoded = values.encode(value);
    if (encoded.length > settings.maxValueSize()) {
      throw new IllegalArgumentException(oversize(key, encoded.length) + "; nothing was written");
    }
    byte[] k = keys.encode(key);
    long expiresAt = expiresAt();
    write(
        stripe(key),
        () -> {
          hooks.at(CacheHooks.Step.PUT_BEFORE_L2, key);
          if (l2 != null) {
            l2.put(k, encoded, ttl);
          }
          putL1(key, value, encoded.length, expiresAt);
        });
  }

  /**
   * Removes {@code key} from both tiers. A load of the key running meanwhile still answers its
   * callers but caches nothing; a read that starts after this returns misses both tiers.
   */
  public void invalidate(K key) {
    Objects.requireNonNull(key, "key");
    ensureOpen();
    byte[] k = keys.encode(key);
    write(
        stripe(key),
        () -> {
          l1.invalidate(key);
          hooks.at(CacheHooks.Step.INVALIDATE_BEFORE_L2, key);
          if (l2 != null) {
            l2.delete(k);
          }
        });
  }

  /**
   * Removes every entry from both tiers (L2 in batches). Writes of single keys wait until it
   * returns; loads running meanwhile cache nothing.
   */
  public void invalidateAll() {
    ensureOpen();
    long stamp = clearing.writeLock();
    try {
      for (int i = 0; i < STRIPES; i++) {
        seq.incrementAndGet(i);
      }
      try {
        // expiry records become stale, dropped later (clearing them could race a put)
        l1.invalidateAll();
        if (l2 != null) {
          l2.clear();
        }
      } finally {
        for (int i = 0; i < STRIPES; i++) {
          seq.incrementAndGet(i);
        }
      }
    } finally {
      clearing.unlockWrite(stamp);
    }
  }

  /**
   * Loads every key not already cached through {@code loader} (as {@link #get}), reporting progress
   * as phase {@code "warm"} with done/total keys. Returns how many keys were loaded by {@code
   * loader} rather than found in a tier.
   */
  public long warm(
      Collection<? extends K> keysToWarm,
      Function<? super K, ? extends V> loader,
      Progress progress) {
    Objects.requireNonNull(keysToWarm, "keys");
    Objects.requireNonNull(loader, "loader");
    Objects.requireNonNull(progress, "progress");
    long total = keysToWarm.size();
    long done = 0;
    long before = loads.sum() + loadFailures.sum();
    progress.report("warm", 0, total);
    for (K k : keysToWarm) {
      get(k, loader);
      done++;
      if (done % 256 == 0 || done == total) {
        progress.report("warm", done, total);
      }
    }
    return loads.sum() + loadFailures.sum() - before;
  }

  /**
   * Copies up to {@code max} live L2 entries (in key order) into L1, reporting phase {@code
   * "warm-from-l2"}; use after a restart to avoid a cold L1. Values rejected by the validator are
   * dropped. Returns how many were copied.
   */
  public long warmFromL2(int max, Progress progress) {
    Objects.requireNonNull(progress, "progress");
    ensureOpen();
    if (l2 == null || max <= 0) {
      return 0;
    }
    long[] before = new long[STRIPES]; // write sequences before the scan (see fillL1)
    for (int i = 0; i < STRIPES; i++) {
      before[i] = seq.get(i);
    }
    List<Entry> entries = l2.scan(max);
    long copied = 0;
    for (int i = 0; i < entries.size(); i++) {
      Entry e = entries.get(i);
      K key = keys.decode(e.key());
      int s = stripe(key);
      V v = decodeOrDrop(key, e, s, before[s]);
      if (v != null) {
        if (validator == null || validator.isValid(key, v)) {
          if (fillL1(key, v, e.value().length, e.expiresAtMillis(), s, before[s])) {
            copied++;
          }
        } else {
          rejected.increment();
          dropIfCurrent(key, e.key(), s, before[s]);
        }
      }
      if ((i + 1) % 256 == 0 || i + 1 == entries.size()) {
        progress.report("warm-from-l2", i + 1, entries.size());
      }
    }
    return copied;
  }

  /**
   * Removes expired copies from L1 (by the exact clock) and expired entries from L2 storage now;
   * returns how many L2 entries.
   */
  public long purgeExpired() {
    ensureOpen();
    long now = clock.millis();
    if (now >= deadlines.next()) {
      expireDue(now);
    }
    l1.cleanUp();
    return l2 == null ? 0 : l2.purgeExpired();
  }

  /** Per-tier counters since open. */
  public CacheStats stats() {
    return new CacheStats(
        l1Hits.sum(),
        l1Misses.sum(),
        l1Evictions.sum(),
        l1.estimatedSize(),
        l2Hits.sum(),
        l2Misses.sum(),
        l2 == null ? 0 : l2.errors(),
        loads.sum(),
        loadFailures.sum(),
        loadNanos.sum(),
        rejected.sum(),
        isDegraded());
  }

  /** Whether L2 is currently bypassed after failures. */
  public boolean isDegraded() {
    return l2 != null && l2.degraded();
  }

  private void ensureOpen() {
    if (closed) {
      throw new ClosedException(
          "cache '" + settings.name() + "' on backend '" + backend.name() + "'",
          "open it again with TieredCache.open or TieredCaches");
    }
  }

  /**
   * Drops L1, unregisters metrics and the health check and releases the name; L2 keeps its entries.
   * Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (sweeper != null) {
      sweeper.unregister(sweep);
    }
    l1.invalidateAll();
    deadlines.clear();
    loading.clear();
    for (String n : metricNames) {
      metrics.remove(n);
    }
    healthChecks.unregister(prefix);
    release(backend, settings.name());
    if (coarseClock != null) {
      coarseClock.release();
    }
  }

  /**
   * Whether L1 expiry is enforced off the hit path by {@link L1Sweeper} and the shared {@link
   * CoarseClock} (for tests).
   */
  boolean usesCoarseClock() {
    return coarseClock != null;
  }

  /** Installs test-only interleaving hooks; call before the cache is shared between threads. */
  void hooks(CacheHooks h) {
    this.hooks = Objects.requireNonNull(h, "hooks");
  }

  /** Drops the L1 copy of {@code key} only, as an eviction would (for tests). */
  void invalidateL1ForTest(K key) {
    l1.invalidate(key);
  }

  /** Total L1 weight (encoded bytes, each entry at least max-weight / max-entries; for tests). */
  long l1WeightForTest() {
    l1.cleanUp();
    return l1.policy().eviction().map(e -> e.weightedSize().orElse(-1)).orElse(-1L);
  }

  /** Number of L1 expiry records, live and stale (for tests). */
  int deadlineRecords() {
    return deadlines.size();
  }

  @Override
  public String toString() {
    return "TieredCache[" + name() + " on " + backendName() + "]";
  }

  /** Shared codec instances for raw caches, so repeated raw lookups get the same cache. */
  static final class RawCodecs {
    static final Codec<String> KEYS = Codec.utf8();
    static final Codec<byte[]> VALUES = Codec.bytes();

    private RawCodecs() {}
  }
}
