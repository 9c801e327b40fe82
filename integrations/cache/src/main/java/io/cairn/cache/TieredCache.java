package io.cairn.cache;

import io.cairn.persistence.ClosedException;
import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.Entry;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.Settings;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiPredicate;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tiered cache: a Caffeine in-memory tier (L1) in front of any number of persistent tiers, each a
 * key-value namespace on a backend ({@code tiers = [l1, fast, main]}; by default one, "L2", on
 * {@code backend}), configured under {@code cairn.caches.<name>}. Keys and values pass through
 * {@link Codec}s on their way to the persistent tiers; L1 holds the objects themselves.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li><b>Read-through, fill upward.</b> {@link #get(Object, Function)} answers from L1, else the
 *       first persistent tier holding a live entry (top down), else the loader, and fills every
 *       tier above the one that answered (for the entry's remaining life), and only if no write of
 *       the key happened meanwhile: L1 and the persistent tiers above shortly after the read
 *       returns, on the cache's fill thread ({@code UpwardFills}, in batches: one transaction per
 *       tier per batch). Concurrent misses on one key call the loader once (single flight); the
 *       others wait for its result or exception.
 *   <li><b>Write-through.</b> {@link #put} writes every persistent tier, top down, each at its
 *       backend's durability (with the TTL, capped by the tier's {@code max-ttl}), then L1.
 *   <li><b>TTL.</b> An entry expires {@code ttl} after it was written, in every tier. A persistent
 *       expiry is stored with the entry, so an entry whose TTL passed while the service was down is
 *       never served after a restart. L1 never serves an entry past the expiry of the tier copy it
 *       came from. With {@code l1.coarse-clock = true} (the default, on the system clock) a hit
 *       checks nothing: the shared thread {@code cairn-cache-expiry} removes each copy when its
 *       expiry passes, so a copy may be served up to that thread's lag past it (normally under a
 *       millisecond), never dropped early. With {@code false}, or a registry built with its own
 *       {@link Clock}, every hit compares the clock with the earliest recorded expiry.
 *   <li><b>Bounds.</b> L1 holds at most {@code l1.max-entries} entries and {@code l1.max-weight}
 *       bytes of encoded values. A persistent tier with {@code max-entries} or {@code max-bytes}
 *       evicts by CLOCK, an approximation of least-recently-used that writes nothing on a read (see
 *       {@code TierBound}). A value encoding to more than {@code max-value-size} bytes is refused
 *       by {@link #put} ({@link IllegalArgumentException}) and, from a loader, returned but not
 *       cached (metric {@code oversize-loads}).
 *   <li><b>Tags.</b> {@link #put(Object, Object, Collection)} and {@link #get(Object, Function,
 *       Collection)} attach tags; {@link #invalidateTag} drops every entry carrying a tag from
 *       every tier, including across a restart: each persistent tier stores a generation per tag
 *       and an entry records its tags' generations, so the invalidation is one write per tier, not
 *       a scan. {@link #invalidateIf} drops the entries a predicate accepts (that one scans).
 *   <li><b>Validation.</b> An optional {@link CacheValidator} is asked on every hit; a rejected
 *       value is dropped from every tier and the lookup continues as a miss.
 *   <li><b>Degradation.</b> If a persistent tier fails (disk full, corruption, closed backend), the
 *       cache keeps serving from the other tiers and the loader, reports itself degraded in {@link
 *       #stats()}, {@link #tierStats()} and its health check {@code cairn.caches.<name>}, logs
 *       once, and retries the tier with backoff; a recovered tier never serves a value older than
 *       one written during the outage (see {@code StoreTier}, {@code TierChain}). L1 keeps serving
 *       the copies it holds during the outage, also when the backend was closed under the open
 *       cache; on a backend shared with other instances it then hears none of their writes (see
 *       {@code RemoteInvalidation}), so a copy may be stale until it expires, is evicted, or the
 *       listening connection reconnects and clears L1 (a closed backend never does). Loader
 *       exceptions are not tier failures: they propagate to the callers.
 *   <li><b>Invalidation and overwrite.</b> {@link #invalidate}, {@link #invalidateTag}, {@link
 *       #invalidateAll} and {@link #put} act on every tier; a load of an affected key running at
 *       the same time still returns its value to its callers but caches it in no tier. A read that
 *       starts after one of them returned never answers a value from before it ({@link
 *       WriteSequence}); a caller arriving while a load that began before such a write still runs
 *       waits for it and then loads again, so the loader runs at most once at a time per key.
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

  /** Caches open in this process, per backend instance (two L1s over one tier would diverge). */
  private static final Map<StorageBackend, Set<String>> OPEN = new WeakHashMap<>();

  private final CacheSettings settings;
  private final StorageBackend backend; // the top persistent tier's (or the configured) backend
  private final List<StorageBackend> claimed; // backends this cache is registered on in OPEN
  private final Codec<K> keys;
  private final Codec<V> values;
  private final CacheValidator<? super K, ? super V> validator;
  private final Clock clock;
  private final L1Tier<K, V> l1;
  private final TierChain chain;
  private final WriteSequence seq = new WriteSequence();
  private final RemoteInvalidation remote; // other instances' writes (shared backends), see there
  private final UpwardFills<Fill<K, V>> fills;

  /** Whether a hit is served without checks: expiry enforced by the sweeper, no validator. */
  private final boolean unchecked;

  private final Duration ttl;
  private final ConcurrentHashMap<K, Flight<V>> loading = new ConcurrentHashMap<>();
  private final CacheMetrics metrics;
  private final AtomicBoolean oversizeLogged = new AtomicBoolean();
  private volatile boolean closed;

  /** Test-only interleaving points (see {@link CacheHooks}); set before use. */
  private CacheHooks hooks = CacheHooks.NONE;

  /**
   * A running tier lookup and load of one key by a caller with a loader; {@code seq} the key's
   * write sequence read before it began.
   */
  private record Flight<V>(CompletableFuture<V> future, long seq) {}

  /**
   * A value read from persistent tier {@code below}, to copy into L1 and the persistent tiers above
   * it on the fill thread ({@link #runFills}); {@code before} is the key's write sequence read
   * before the tiers were read.
   */
  private record Fill<K, V>(
      K key, V value, byte[] k, StoredValue sv, long expiresAt, int below, int stripe, long before)
      implements TierChain.Copy, WriteSequence.Guarded {}

  private TieredCache(
      CacheSettings settings,
      StorageBackend backend,
      List<StorageBackend> claimed,
      PersistenceRegistry registry,
      Codec<K> keys,
      Codec<V> values,
      CacheValidator<? super K, ? super V> validator) {
    this.settings = settings;
    this.backend = backend;
    this.claimed = claimed;
    this.keys = keys;
    this.values = values;
    this.validator = validator;
    this.clock = registry.clock();
    this.ttl = settings.ttl().isZero() ? null : settings.ttl();
    this.chain = new TierChain(settings, registry::backend, clock);
    this.fills = new UpwardFills<>(settings.name(), this::runFills, this::overflowFill);
    this.metrics = new CacheMetrics(settings.name(), registry.metrics(), registry.healthChecks());
    chain.open();
    boolean bounded = chain.tiers().stream().anyMatch(t -> t.bound() != null);
    // last, so that nothing can fail after L1 acquired the shared clock; close() releases it
    this.l1 =
        new L1Tier<>(
            settings, values, clock, ttl, bounded ? k -> chain.touch(keys.encode(k)) : k -> {});
    this.unchecked = l1.sweeps() && validator == null;
    // last: its callbacks may run at once, on another thread
    this.remote =
        RemoteInvalidation.attach(
            settings.name(),
            claimed,
            k -> {
              K key = keys.decode(k);
              seq.write(WriteSequence.stripe(key), () -> l1.invalidate(key));
            },
            tag ->
                seq.writeAll(
                    () -> {
                      chain.tiers().forEach(StoreTier::reloadTags);
                      l1.dropTagged(tag);
                    }),
            () ->
                seq.writeAll(
                    () -> {
                      chain.tiers().forEach(StoreTier::reloadTags);
                      l1.invalidateAll();
                    }));
  }

  /** Persistent namespace of cache {@code name} (in each of its tiers). */
  static String namespace(String name) {
    return "cache." + name;
  }

  /**
   * Opens cache {@code name} as configured under {@code cairn.caches.<name>} (over its profile and
   * {@code cairn.cache-defaults}). The caller owns it and must {@link #close()} it before closing
   * the registry; to have caches closed with the registry use {@link TieredCaches}.
   *
   * @throws io.cairn.persistence.ConfigurationException if the cache is not configured or its
   *     settings are invalid (every problem, with path and file:line)
   * @throws PersistenceException if a cache of that name is already open on one of its backends
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
    Set<String> names = new LinkedHashSet<>();
    if (!s.backend().isEmpty()) {
      names.add(s.backend());
    }
    s.tiers().forEach(t -> names.add(t.backend()));
    List<StorageBackend> claimed = new ArrayList<>();
    for (String b : names) {
      claimed.add(registry.backend(b));
    }
    claim(claimed, name);
    TieredCache<K, V> c = null;
    try {
      c =
          new TieredCache<>(
              s,
              claimed.isEmpty() ? null : claimed.get(0),
              claimed,
              registry,
              keyCodec,
              valueCodec,
              validator);
      c.metrics.register(c);
      return c;
    } catch (RuntimeException e) {
      if (c != null) {
        c.close(); // releases the shared clock, metrics and the claims
      } else {
        release(claimed, name);
      }
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

  private static void claim(List<StorageBackend> backends, String name) {
    synchronized (OPEN) {
      for (StorageBackend b : backends) {
        if (OPEN.getOrDefault(b, Set.of()).contains(name)) {
          throw new PersistenceException(
              "Cache '"
                  + name
                  + "' is already open on backend '"
                  + b.name()
                  + "' in this process; share that instance (TieredCaches.cache(...)) or close it"
                  + " first.");
        }
      }
      for (StorageBackend b : backends) {
        OPEN.computeIfAbsent(b, x -> new HashSet<>()).add(name);
      }
    }
  }

  private static void release(List<StorageBackend> backends, String name) {
    synchronized (OPEN) {
      for (StorageBackend b : backends) {
        Set<String> names = OPEN.get(b);
        if (names != null) {
          names.remove(name);
        }
      }
    }
  }

  /** The cache's name. */
  public String name() {
    return settings.name();
  }

  /** Name of the backend holding the top persistent tier ("" for an in-memory-only cache). */
  public String backendName() {
    return backend == null ? "" : backend.name();
  }

  /** Backends of the persistent tiers, top down. */
  public List<String> tierNames() {
    return chain.tiers().stream().map(StoreTier::name).toList();
  }

  /**
   * The value from any tier, without loading; {@code null} if none has a live, valid one. A hit
   * below L1 is copied into the tiers above.
   */
  public V getIfPresent(K key) {
    // The hit path (see the class comment on expiry): a Caffeine lookup and a LongAdder count,
    // no clock or other volatile read, no holder object. Kept small so that it inlines into
    // callers; the rest is in checked().
    V v = l1.getIfPresent(key);
    if (v != null && unchecked) {
      metrics.l1Hits.increment();
      return v;
    }
    return checked(key, v, null, StoredValue.NO_TAGS);
  }

  /**
   * The value for {@code key}: from L1, else the persistent tiers, else {@code loader} (called at
   * most once at a time per key across threads; its result is written to every tier with the
   * cache's TTL).
   *
   * @throws RuntimeException whatever the loader threw (checked exceptions wrapped in {@link
   *     CompletionException}), to every caller waiting on that load
   */
  public V get(K key, Function<? super K, ? extends V> loader) {
    Objects.requireNonNull(loader, "loader");
    V v = l1.getIfPresent(key);
    if (v != null && unchecked) {
      metrics.l1Hits.increment();
      return v;
    }
    return checked(key, v, loader, StoredValue.NO_TAGS);
  }

  /**
   * As {@link #get(Object, Function)}; a value this call loads is cached with {@code tags} (see
   * {@link #invalidateTag}). A value found in a tier keeps the tags it was written with.
   *
   * @throws IllegalArgumentException more than 32 tags, an empty tag, or one over 256 UTF-8 bytes
   */
  public V get(K key, Function<? super K, ? extends V> loader, Collection<String> tags) {
    Objects.requireNonNull(loader, "loader");
    String[] t = StoredValue.checkTags(tags);
    V v = l1.getIfPresent(key);
    if (v != null && unchecked) {
      metrics.l1Hits.increment();
      return v;
    }
    return checked(key, v, loader, t);
  }

  /**
   * After an L1 lookup found {@code v} (null: a miss) and the hit needs checks (an exact clock or a
   * validator): the value served, else the tiers and the loader (if any).
   */
  private V checked(K key, V v, Function<? super K, ? extends V> loader, String[] tags) {
    if (v != null) {
      V served = served(key);
      if (served != null) {
        return served;
      }
    }
    ensureOpen();
    metrics.l1Misses.increment();
    return load(key, loader, tags);
  }

  /**
   * The L1 copy of {@code key} if it may be served (live and valid), counted as a hit; else null,
   * after removing due copies or rejecting an invalid one. L1 never holds null values.
   */
  private V served(K key) {
    V v = l1.live(key);
    if (v == null) {
      return null;
    }
    if (validator == null || validator.isValid(key, v)) {
      metrics.l1Hits.increment();
      return v;
    }
    metrics.rejected.increment();
    invalidate(key);
    return null;
  }

  /**
   * L1 missed: the persistent tiers, then the loader (if any). A load with a loader is a single
   * flight (registered in {@code loading}); a lookup without one (getIfPresent) joins a running
   * flight of the key but registers none: it never calls a loader, so there is nothing to
   * deduplicate but a tier read, and registering one (a future and two map writes) is a part of
   * every L2 hit's own cost. Its L1 fill is checked against the write sequence like any other.
   */
  private V load(K key, Function<? super K, ? extends V> loader, String[] tags) {
    Objects.requireNonNull(key, "key");
    int s = WriteSequence.stripe(key);
    while (true) {
      long before = seq.current(s);
      Flight<V> mine;
      Flight<V> running;
      if (loader == null) {
        mine = null;
        running = loading.get(key);
      } else {
        mine = new Flight<>(new CompletableFuture<>(), before);
        running = loading.putIfAbsent(key, mine);
      }
      if (running != null) {
        if (running.seq() != before) {
          // began before a write of this key: its value may predate that write, and loading
          // beside it would call the loader twice at once; wait for it, then look again
          hooks.at(CacheHooks.Step.FLIGHT_WAIT, key);
          running.future().handle((v, e) -> null).join();
          continue;
        }
        return join(running.future()); // the flight had a loader: its answer is final
      }
      if (mine == null) {
        return loadOwned(key, null, tags, s, before);
      }
      V v;
      try {
        v = loadOwned(key, loader, tags, s, before);
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

  /** The load of {@code key} by the flight owner; {@code before} is its sequence read before. */
  private V loadOwned(
      K key, Function<? super K, ? extends V> loader, String[] tags, int s, long before) {
    if (loader != null) {
      // a flight that ended just before this one began may have filled L1: spare the loader
      V cached = l1.live(key);
      if (cached != null && (validator == null || validator.isValid(key, cached))) {
        return cached;
      }
    }
    byte[] k = keys.encode(key);
    if (!chain.isEmpty()) {
      boolean[] dead = {false};
      TierChain.Hit hit = chain.find(k, dead);
      hooks.at(CacheHooks.Step.L2_READ, key);
      if (hit != null) {
        V v = fromTier(key, k, hit, s, before);
        if (v != null) {
          return v;
        }
      } else if (dead[0] && loader == null) {
        dropIfCurrent(key, k, s, before); // a loader's write-back would overwrite it instead
      }
    }
    metrics.l2Misses.increment();
    if (loader == null) {
      return null;
    }
    return callLoader(key, k, loader, tags, s, before);
  }

  /** A live tier entry: decoded, validated, copied upward; null if it cannot be served. */
  private V fromTier(K key, byte[] k, TierChain.Hit hit, int s, long before) {
    StoredValue sv = hit.found().stored();
    V v = decodeOrDrop(key, k, sv, s, before);
    if (v == null) {
      return null;
    }
    if (validator != null && !validator.isValid(key, v)) {
      metrics.rejected.increment();
      dropIfCurrent(key, k, s, before);
      return null;
    }
    metrics.l2Hits.increment();
    // L1's fill and the persistent tiers' above the one that answered run off this thread, in
    // batches (re-checked against the write sequence when they run, see runFills): the reader pays
    // a hand-off instead of Caffeine's insert with its eviction and the expiry record (~350 ns of
    // a ~1.8 us L2 hit), and for an L3 hit the tier writes (RESULTS-cache-tiers.md, 2026-12-06).
    fills.submit(new Fill<>(key, v, k, sv, hit.found().expiresAtMillis(), hit.tier(), s, before));
    return v;
  }

  /**
   * On the fill thread: copies values read from persistent tiers into L1 and into the persistent
   * tiers above the one each came from, each only if no write of its stripe began since its {@code
   * before} was read, before the tiers were read. L1 checks that inside Caffeine's {@code compute}
   * of the key, which the write's own L1 step also takes (see {@link L1Tier#fill}); the persistent
   * tiers under the monitors of every stripe of the batch ({@link WriteSequence#ifCurrentEach}),
   * held while each tier writes the batch as one transaction. However long a fill waited, it
   * therefore never brings back a value that was overwritten or invalidated.
   */
  private void runFills(List<Fill<K, V>> batch) {
    List<Fill<K, V>> upward = null;
    for (Fill<K, V> f : batch) {
      fillL1(f);
      if (f.below() > 0) {
        if (upward == null) {
          upward = new ArrayList<>(batch.size());
        }
        upward.add(f);
      }
    }
    if (upward == null) {
      return;
    }
    for (Fill<K, V> f : upward) {
      hooks.at(CacheHooks.Step.UPWARD_FILL, f.key());
    }
    seq.ifCurrentEach(upward, current -> chain.fillAbove(current, clock.millis()));
  }

  /**
   * A fill the fill thread's queue had no room for, on the reader's thread: the L1 copy only
   * (checked as in {@link #runFills}); a copy into persistent tiers above is dropped and counted
   * ({@code upward-fills-shed}). Such a copy is a tier write (with a bounded tier, also an
   * eviction's delete), which cost the fill thread more CPU than the reader's whole L3 hit
   * (RocksDB's memtable inserts, RESULTS-cache-tiers.md, 2026-12-06 noon): a reader doing it under
   * overload pays a write for a read. Dropping it costs a later read of the key one tier deeper.
   */
  private void overflowFill(Fill<K, V> f) {
    fillL1(f);
    if (f.below() > 0) {
      metrics.fillsShed.increment();
    }
  }

  /** The L1 copy of a fill, checked against the write sequence inside L1's compute. */
  private void fillL1(Fill<K, V> f) {
    hooks.at(CacheHooks.Step.L1_FILL, f.key());
    l1.fill(
        f.key(),
        f.value(),
        f.sv().valueLength(),
        f.expiresAt(),
        f.sv().tags(),
        seq,
        f.stripe(),
        f.before());
  }

  private V callLoader(
      K key, byte[] k, Function<? super K, ? extends V> loader, String[] tags, int s, long before) {
    long start = System.nanoTime();
    V v;
    try {
      v = loader.apply(key);
    } catch (RuntimeException | Error e) {
      metrics.loadFailures.increment();
      metrics.recordLoad(start);
      throw e;
    }
    metrics.loads.increment();
    metrics.recordLoad(start);
    if (v == null) {
      return null;
    }
    byte[] encoded = values.encode(v);
    if (encoded.length > settings.maxValueSize()) {
      metrics.oversizeLoads.increment();
      if (oversizeLogged.compareAndSet(false, true)) {
        log.warn(
            "{}; a loaded value that large is returned to its callers and not cached (further"
                + " ones are counted in cairn.caches.{}.oversize-loads, not logged)",
            oversize(key, encoded.length),
            settings.name());
      }
      return v;
    }
    long expiresAt = expiresAt();
    hooks.at(CacheHooks.Step.LOAD_WRITE_BACK, key);
    // checked and written under the stripe monitor: no write of the key runs in between
    seq.ifCurrent(
        s,
        before,
        false,
        () -> {
          chain.write(k, tags, encoded, ttl);
          hooks.at(CacheHooks.Step.LOAD_L2_WRITTEN, key);
          if (expiresAt == 0 || expiresAt > clock.millis()) {
            l1.put(key, v, encoded.length, expiresAt, tags);
          }
        });
    return v;
  }

  /**
   * Removes {@code key} from every tier as a write, unless a write of its stripe began since {@code
   * before} (then the entry that was read may already be replaced, and is not this caller's to
   * drop).
   */
  private void dropIfCurrent(K key, byte[] k, int s, long before) {
    seq.ifCurrent(
        s,
        before,
        true,
        () -> {
          l1.invalidate(key);
          chain.delete(k);
        });
  }

  private V decodeOrDrop(K key, byte[] k, StoredValue sv, int s, long before) {
    try {
      return sv.decodeValue(values);
    } catch (PersistenceException | IllegalArgumentException ex) {
      // An undecodable stored value (old format, corruption) is dropped and treated as a miss.
      dropIfCurrent(key, k, s, before);
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

  private long expiresAt() {
    if (ttl == null) {
      return 0;
    }
    long now = clock.millis();
    long at = now + ttl.toMillis();
    return at < now ? Long.MAX_VALUE : at;
  }

  /**
   * Writes {@code value} to every tier (with the TTL) and L1, replacing any value. A load of the
   * key running meanwhile still answers its callers but caches nothing; a read that starts after
   * this returns never answers an older value.
   */
  public void put(K key, V value) {
    put(key, value, List.of());
  }

  /**
   * As {@link #put(Object, Object)}, with tags: {@link #invalidateTag} of any of them drops the
   * entry from every tier.
   *
   * @throws IllegalArgumentException the value encodes to more than {@code max-value-size} bytes
   *     (nothing is written), or more than 32 tags, an empty tag, or one over 256 UTF-8 bytes
   */
  public void put(K key, V value, Collection<String> tags) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    String[] t = StoredValue.checkTags(tags);
    ensureOpen();
    byte[] encoded = values.encode(value);
    if (encoded.length > settings.maxValueSize()) {
      throw new IllegalArgumentException(oversize(key, encoded.length) + "; nothing was written");
    }
    byte[] k = keys.encode(key);
    long expiresAt = expiresAt();
    seq.write(
        WriteSequence.stripe(key),
        () -> {
          hooks.at(CacheHooks.Step.PUT_BEFORE_L2, key);
          chain.write(k, t, encoded, ttl);
          l1.put(key, value, encoded.length, expiresAt, t);
        });
    remote.written(k);
  }

  /**
   * Removes {@code key} from every tier. A load of the key running meanwhile still answers its
   * callers but caches nothing; a read that starts after this returns misses every tier.
   */
  public void invalidate(K key) {
    Objects.requireNonNull(key, "key");
    ensureOpen();
    byte[] k = keys.encode(key);
    seq.write(
        WriteSequence.stripe(key),
        () -> {
          l1.invalidate(key);
          hooks.at(CacheHooks.Step.INVALIDATE_BEFORE_L2, key);
          chain.delete(k);
        });
    remote.written(k);
  }

  /**
   * Drops every entry carrying {@code tag} from every tier: one generation write per persistent
   * tier (durable at its backend's durability before this returns, so it holds across a restart)
   * and a walk of L1's tagged copies; no scan of stored entries. Dropped entries are removed from
   * storage when next read, evicted by a bound, or expired. Writes of single keys wait until it
   * returns; loads running meanwhile cache nothing. A tier that is degraded meanwhile is cleared
   * before it serves again.
   */
  public void invalidateTag(String tag) {
    StoredValue.checkTags(List.of(Objects.requireNonNull(tag, "tag")));
    ensureOpen();
    seq.writeAll(
        () -> {
          chain.invalidateTag(tag);
          l1.dropTagged(tag);
        });
    remote.tagInvalidated(tag);
  }

  /**
   * Drops every entry whose key and value {@code test} accepts, from every tier; returns how many
   * keys were dropped. Unlike {@link #invalidateTag} this scans: L1, then each persistent tier
   * (streamed; the matching keys are collected, then invalidated one by one as {@link
   * #invalidate}). Entries written while it runs may or may not be tested. Entries whose stored
   * value cannot be decoded are skipped (a read drops them).
   */
  public long invalidateIf(BiPredicate<? super K, ? super V> test) {
    Objects.requireNonNull(test, "test");
    ensureOpen();
    Set<K> matched = new LinkedHashSet<>();
    l1.forEach(test, matched::add);
    for (StoreTier t : chain.tiers()) {
      t.scan(
          Long.MAX_VALUE,
          e -> {
            StoredValue sv = t.liveValue(e);
            if (sv == null) {
              return;
            }
            try {
              K key = keys.decode(e.key());
              if (!matched.contains(key) && test.test(key, sv.decodeValue(values))) {
                matched.add(key);
              }
            } catch (PersistenceException | IllegalArgumentException undecodable) {
              // skipped: a read of that key drops it
            }
          });
    }
    for (K key : matched) {
      invalidate(key);
    }
    return matched.size();
  }

  /**
   * Removes every entry from every tier (persistent tiers in batches). Writes of single keys wait
   * until it returns; loads running meanwhile cache nothing.
   */
  public void invalidateAll() {
    ensureOpen();
    seq.writeAll(
        () -> {
          l1.invalidateAll();
          chain.clear();
        });
    remote.cleared();
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
    long before = metrics.loads.sum() + metrics.loadFailures.sum();
    progress.report("warm", 0, total);
    for (K k : keysToWarm) {
      get(k, loader);
      done++;
      if (done % 256 == 0 || done == total) {
        progress.report("warm", done, total);
      }
    }
    return metrics.loads.sum() + metrics.loadFailures.sum() - before;
  }

  /**
   * Copies up to {@code max} live entries of the top persistent tier (in key order) into L1,
   * reporting phase {@code "warm-from-l2"} (total: the store's approximate count); use after a
   * restart to avoid a cold L1. Values rejected by the validator are dropped. Returns how many were
   * copied.
   *
   * <p>The tier is read on a thread of its own ({@code cairn-cache-warm-<name>}) while this thread
   * decodes the entries and fills L1: the scan (SQLite's row reads and checksums, RocksDB's
   * iterator) and the fill (decoding, Caffeine) each took about half of warming's CPU, so on a
   * machine with a core to spare the wall time is about the larger half (the CPU time is the same,
   * plus the hand-over). At most {@value #WARM_QUEUE} batches of {@value #WARM_BATCH} entries wait
   * between the two (nothing else is held). If the scan fails, the tier is marked failed as by any
   * read and warming returns what it copied; an exception on this thread (a validator's) stops the
   * scan and is rethrown.
   */
  public long warmFromL2(int max, Progress progress) {
    Objects.requireNonNull(progress, "progress");
    ensureOpen();
    if (chain.isEmpty() || max <= 0) {
      return 0;
    }
    long[] before = seq.snapshot(); // write sequences before the scan (see L1Tier.fill)
    StoreTier top = chain.tiers().get(0);
    // the total only feeds progress; counting is a full scan on some engines (SQLite: 5% of
    // warming 1,000,000 entries in a profile), so it is skipped when nobody listens
    long total = progress == Progress.NONE ? max : Math.min(max, top.approximateCount());
    long[] counts = {0, 0}; // scanned, copied
    WarmScan scan = new WarmScan(top, max);
    Thread scanner = new Thread(scan, "cairn-cache-warm-" + settings.name());
    scanner.setDaemon(true);
    scanner.start();
    try {
      for (List<Entry> batch; !(batch = scan.take()).isEmpty(); ) {
        for (Entry e : batch) {
          counts[0]++;
          warmOne(top, e, before, counts);
          if (counts[0] % 256 == 0) {
            progress.report("warm-from-l2", counts[0], Math.max(total, counts[0]));
          }
        }
      }
    } finally {
      scan.stop();
      joinQuietly(scanner);
    }
    scan.rethrow();
    progress.report("warm-from-l2", counts[0], counts[0]);
    return counts[1];
  }

  private void warmOne(StoreTier top, Entry e, long[] before, long[] counts) {
    StoredValue sv = top.liveValue(e);
    if (sv == null) {
      return;
    }
    K key = keys.decode(e.key());
    int s = WriteSequence.stripe(key);
    V v = decodeOrDrop(key, e.key(), sv, s, before[s]);
    if (v == null) {
      return;
    }
    if (validator == null || validator.isValid(key, v)) {
      if (l1.fill(key, v, sv.valueLength(), e.expiresAtMillis(), sv.tags(), seq, s, before[s])) {
        counts[1]++;
      }
    } else {
      metrics.rejected.increment();
      dropIfCurrent(key, e.key(), s, before[s]);
    }
  }

  private static void joinQuietly(Thread t) {
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true; // the scanner stops on its own (stop() was called): wait for it
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Entries handed from the warming scan to the filling thread per batch. */
  static final int WARM_BATCH = 256;

  /** Batches that may wait between the warming scan and the filling thread. */
  static final int WARM_QUEUE = 4;

  /**
   * The scanning half of {@link #warmFromL2}: streams the tier into batches on a queue of {@value
   * #WARM_QUEUE}, ended by an empty batch. Stops (closing the tier's iterator) when {@link #stop}
   * is called.
   */
  private static final class WarmScan implements Runnable {
    private static final List<Entry> END = List.of();

    /** Thrown inside the scan's sink to end the scan early (closes the iterator). */
    private static final class Stopped extends RuntimeException {
      Stopped() {
        super(null, null, false, false);
      }
    }

    private final StoreTier tier;
    private final long max;
    private final java.util.concurrent.ArrayBlockingQueue<List<Entry>> queue =
        new java.util.concurrent.ArrayBlockingQueue<>(WARM_QUEUE);
    private volatile boolean stopped;
    private volatile Throwable failure;

    WarmScan(StoreTier tier, long max) {
      this.tier = tier;
      this.max = max;
    }

    @Override
    public void run() {
      List<List<Entry>> batch = new ArrayList<>(1);
      batch.add(new ArrayList<>(WARM_BATCH));
      try {
        tier.scan(
            max,
            e -> {
              List<Entry> b = batch.get(0);
              b.add(e);
              if (b.size() == WARM_BATCH) {
                hand(b);
                batch.set(0, new ArrayList<>(WARM_BATCH));
              }
            });
        if (!batch.get(0).isEmpty()) {
          hand(batch.get(0));
        }
      } catch (Stopped e) {
        // the filling thread is gone: nothing to hand over
      } catch (RuntimeException | Error e) {
        failure = e;
      } finally {
        if (!stopped) {
          try {
            hand(END);
          } catch (Stopped e) {
            // stopped meanwhile
          }
        }
      }
    }

    private void hand(List<Entry> b) {
      if (stopped) {
        throw new Stopped();
      }
      try {
        while (!queue.offer(b, 50, java.util.concurrent.TimeUnit.MILLISECONDS)) {
          if (stopped) {
            throw new Stopped();
          }
        }
      } catch (InterruptedException e) {
        throw new Stopped();
      }
    }

    /** The next batch; empty when the scan has ended. */
    List<Entry> take() {
      try {
        return queue.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new PersistenceException(
            "warmFromL2 interrupted while waiting for the scan of tier '" + tier.name() + "'", e);
      }
    }

    void stop() {
      stopped = true;
      queue.clear(); // frees the scanner if it waits to hand a batch over
    }

    void rethrow() {
      Throwable t = failure;
      if (t instanceof RuntimeException re) {
        throw re;
      }
      if (t instanceof Error err) {
        throw err;
      }
    }
  }

  /**
   * Removes expired copies from L1 (by the exact clock) and expired entries from the persistent
   * tiers' storage now; returns how many persistent entries.
   */
  public long purgeExpired() {
    ensureOpen();
    l1.purgeExpired();
    return chain.purgeExpired();
  }

  /** Counters since open, L1 and the persistent tiers together (L2 = any persistent tier). */
  public CacheStats stats() {
    return new CacheStats(
        metrics.l1Hits.sum(),
        metrics.l1Misses.sum(),
        l1.evictions(),
        l1.estimatedSize(),
        metrics.l2Hits.sum(),
        metrics.l2Misses.sum(),
        chain.errors(),
        metrics.loads.sum(),
        metrics.loadFailures.sum(),
        metrics.loadNanos.sum(),
        metrics.rejected.sum(),
        isDegraded()); // retries a degraded tier whose time has come (see isDegraded)
  }

  /**
   * Per persistent tier, top down: reads answered, evictions, size against bound, health. A
   * degraded tier whose retry time has passed is retried first, as by {@link #isDegraded()}.
   */
  public List<TierStats> tierStats() {
    chain.probeDue(true);
    return chain.tiers().stream().map(TierStats::of).toList();
  }

  /**
   * Whether any persistent tier is currently bypassed after failures. A degraded tier whose retry
   * time has passed is retried first (the recovery a call would run, on a thread of its own), and
   * this waits for that retry at most 500 ms after it started: a tier that came back while no call
   * reached it is not reported degraded, and a hung one does not hang this call. It answers without
   * waiting when no retry is due or the running one started more than 500 ms ago (a hung backend:
   * then the tier is reported degraded).
   */
  public boolean isDegraded() {
    chain.probeDue(true);
    return chain.degraded();
  }

  TierChain chain() {
    return chain;
  }

  long l1Size() {
    return l1.estimatedSize();
  }

  long l1Evictions() {
    return l1.evictions();
  }

  boolean isClosed() {
    return closed;
  }

  CacheSettings settings() {
    return settings;
  }

  private void ensureOpen() {
    if (closed) {
      throw new ClosedException(
          "cache '" + settings.name() + "' on backend '" + backendName() + "'",
          "open it again with TieredCache.open or TieredCaches");
    }
  }

  /**
   * Drops L1, unregisters metrics and the health check and releases the name; the persistent tiers
   * keep their entries. Idempotent.
   */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    chain.close(); // no new probe of a degraded tier (one running ends with its backend)
    fills.close(); // before the caller closes the backends under a running fill
    if (remote != null) {
      remote.close();
    }
    if (l1 != null) {
      l1.close();
    }
    loading.clear();
    metrics.unregister();
    release(claimed, settings.name());
  }

  /** Whether L1 expiry is enforced off the hit path by the sweeper and coarse clock (tests). */
  boolean usesCoarseClock() {
    return l1.usesCoarseClock();
  }

  /** Installs test-only interleaving hooks; call before the cache is shared between threads. */
  void hooks(CacheHooks h) {
    this.hooks = Objects.requireNonNull(h, "hooks");
  }

  /** Waits until the upward fills submitted so far have run (tests). */
  void awaitFillsForTest() {
    if (!fills.awaitIdle(30_000)) {
      throw new AssertionError("upward fills still pending after 30 s");
    }
  }

  /** The most fills the fill thread has run as one batch (tests). */
  int largestFillBatchForTest() {
    return fills.largestBatch();
  }

  /**
   * Sets how long a call that starts a tier's recovery, the health check and isDegraded() wait for
   * it (tests).
   */
  void probeWaitForTest(long millis) {
    chain.probeWaitForTest(millis);
  }

  /** Drops the L1 copy of {@code key} only, as an eviction would (for tests). */
  void invalidateL1ForTest(K key) {
    l1.evictForTest(key);
  }

  /** Total L1 weight (encoded bytes, each entry at least max-weight / max-entries; for tests). */
  long l1WeightForTest() {
    return l1.weightForTest();
  }

  /** Number of L1 expiry records, live and stale (for tests). */
  int deadlineRecords() {
    return l1.deadlineRecords();
  }

  @Override
  public String toString() {
    return "TieredCache[" + name() + " on " + tierNames() + "]";
  }

  /** Shared codec instances for raw caches, so repeated raw lookups get the same cache. */
  static final class RawCodecs {
    static final Codec<String> KEYS = Codec.utf8();
    static final Codec<byte[]> VALUES = Codec.bytes();

    private RawCodecs() {}
  }
}
