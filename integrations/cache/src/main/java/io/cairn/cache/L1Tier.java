package io.cairn.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.cairn.persistence.Codec;
import io.cairn.persistence.spi.CoarseClock;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiFunction;
import java.util.function.BiPredicate;
import java.util.function.Consumer;
import java.util.function.LongUnaryOperator;

/**
 * The in-memory tier of a tiered cache: Caffeine holding the values themselves (no per-value
 * holder), their expiry recorded beside it ({@link L1Deadlines}) and enforced by {@link L1Sweeper}
 * or, on an exact clock, by each hit comparing the clock with {@link L1Deadlines#next()} (see
 * {@link #live}).
 *
 * <p>Tags: the tags of a tagged copy are kept in a side map (key to tags), updated inside the same
 * Caffeine {@code compute} that stores or removes the copy, so the side map never misses a tagged
 * copy that L1 holds; {@link #dropTagged} removes every copy carrying a tag. Entries of the side
 * map whose copy left L1 another way (expiry) are dropped when they outnumber L1 ({@link
 * #tidyTags}). Untagged copies cost nothing there.
 *
 * <p>Every store that may race a write of the same key checks the cache's {@link WriteSequence}
 * inside its {@code compute} ({@link #fill}). Thread-safe.
 */
final class L1Tier<K, V> {
  private final CacheSettings settings;
  private final Codec<V> values;
  private final Clock clock;
  private final Duration ttl;
  private final Cache<K, V> cache;
  private final boolean weighed; // whether Caffeine weighs entries (then stores hand over sizes)
  private final L1Deadlines<K> deadlines = new L1Deadlines<>();
  private final CoarseClock coarseClock; // null: expiry checks read {@code clock} exactly
  private final L1Sweeper sweeper; // null when hits check expiry themselves
  private final LongUnaryOperator sweep = this::sweep; // registered with sweeper
  private final Object expiring = new Object(); // one thread at a time removes due copies
  private final Map<K, String[]> tags = new ConcurrentHashMap<>();
  private final LongAdder evictions = new LongAdder();
  private final Consumer<K> onEviction;
  // L1's copy of a key without side effects, for L1Deadlines (a field: not a lambda per store)
  private final java.util.function.Function<K, Object> quietly;
  private volatile boolean closed;

  /**
   * @param onEviction told of each key Caffeine evicts by size (to keep it warm in bounded tiers)
   */
  L1Tier(
      CacheSettings settings, Codec<V> values, Clock clock, Duration ttl, Consumer<K> onEviction) {
    this.settings = settings;
    this.values = values;
    this.clock = clock;
    this.ttl = ttl;
    this.onEviction = onEviction;
    this.weighed = settings.l1MaxWeight() > 0;
    this.cache = build(settings);
    this.quietly = k -> cache.policy().getIfPresentQuietly(k);
    // last, so that nothing can fail after the refresher was acquired; close() releases it
    this.coarseClock =
        settings.l1CoarseClock() && CoarseClock.mirrors(clock) ? CoarseClock.acquire() : null;
    this.sweeper = coarseClock != null ? L1Sweeper.register(sweep) : null;
  }

  /** Whether expiry is enforced off the hit path (a hit may then skip {@link #live}). */
  boolean sweeps() {
    return sweeper != null;
  }

  boolean usesCoarseClock() {
    return coarseClock != null;
  }

  /** The raw lookup: no expiry check (only for callers that know {@link #sweeps()}). */
  V getIfPresent(K key) {
    return cache.getIfPresent(key);
  }

  long evictions() {
    return evictions.sum();
  }

  long estimatedSize() {
    return cache.estimatedSize();
  }

  @SuppressWarnings("unchecked")
  private Cache<K, V> build(CacheSettings s) {
    // Maintenance (draining buffers, evicting) on the calling thread: with the default executor
    // every fill that needs a drain woke a ForkJoinPool thread (pthread_cond_signal: ~12% of an
    // L2 hit in an async-profiler run, benchmarks/RESULTS-cache-tiers.md); the work is the same,
    // the cross-thread wake-up is gone.
    Caffeine<Object, Object> b = Caffeine.newBuilder().executor(Runnable::run);
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
            evictions.increment();
            tags.remove(k); // inside Caffeine's atomic removal of k: consistent with L1
            if (cause == RemovalCause.SIZE) {
              onEviction.accept((K) k);
            }
          }
        });
    Caffeine<K, V> typed =
        weighed(b, s.l1MaxWeight() > 0, ceilDiv(s.l1MaxWeight(), s.l1MaxEntries()));
    // The TTL (each copy's tier expiry) is enforced outside Caffeine, by deadlines and the sweeper
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

  /** The copy of {@code key} if it has not expired (removing due copies first); else null. */
  V live(K key) {
    while (true) {
      // next() before the lookup: a copy removed as due is then either not found or found with a
      // due time that has passed (the other way round, a copy could be read just before its
      // removal and checked against the advanced next()).
      long due = deadlines.next();
      V v = cache.getIfPresent(key);
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

  /**
   * Removes every copy whose expiry is at or before {@code now} (only the copy each deadline was
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
          V v = cache.policy().getIfPresentQuietly(d.key());
          if (v != null && d.matches(v)) {
            cache.asMap().remove(d.key(), v);
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

  /** Records the expiry of a copy just stored (after it became visible). 0: none. */
  private void expires(K key, V value, long expiresAt) {
    if (expiresAt != 0) {
      deadlines.add(key, value, expiresAt, cache.estimatedSize(), quietly);
      if (sweeper != null) {
        sweeper.wake(expiresAt);
      }
    }
  }

  /** For the sweeper: removes the copies due at {@code now}; returns the earliest remaining. */
  private long sweep(long now) {
    if (!closed && now >= deadlines.next()) {
      expireDue(now);
    }
    return deadlines.next();
  }

  /**
   * Stores {@code value} ({@code size} encoded bytes, tags {@code entryTags}) with its expiry
   * (epoch ms, 0 = none), replacing any copy, as part of a write of the key.
   */
  void put(K key, V value, int size, long expiresAt, String[] entryTags) {
    storing(
        size,
        () ->
            cache
                .asMap()
                .compute(
                    key,
                    (k, old) -> {
                      tagged(k, entryTags);
                      return value;
                    }));
    expires(key, value, expiresAt);
    tidyTags();
  }

  /**
   * Stores a value read from a tier or loaded, if no write of its stripe began since {@code before}
   * was read and it has not expired; returns whether it did.
   *
   * <p>Why a {@code compute} and not {@code putIfAbsent} with a sequence check before and a
   * conditional {@code remove} after (issue 16 asked): the check must be atomic with the store.
   * With check, insert, re-check, a whole invalidate can run between the first check and the insert
   * (its L1 step finds nothing to remove); the insert then puts the old value back and a read that
   * starts after the invalidate returned is served it until the re-check removes it. The {@code
   * compute} runs the check under the key's map lock, which the write's own L1 step also takes, so
   * there is no such window. What the {@code compute} costs over the alternative is small:
   * Caffeine's insert with an eviction (its per-write maintenance) costs about the same either way
   * (microbenchmark, one-entry cache: compute 259 ns, putIfAbsent and re-check 210 ns, put 205 ns;
   * RESULTS-cache-tiers.md, 2026-12-06 morning). The same check makes the fill exact however late
   * it runs, which is what lets an L2 hit hand it to the fill thread ({@code UpwardFills}).
   */
  boolean fill(
      K key,
      V v,
      int size,
      long expiresAt,
      String[] entryTags,
      WriteSequence seq,
      int s,
      long before) {
    if ((before & 1) != 0 || (expiresAt != 0 && expiresAt <= clock.millis())) {
      return false; // read during a write, or expired before it could be cached: serve only
    }
    BiFunction<K, V, V> store =
        (k, old) -> {
          if (seq.current(s) != before) {
            return old;
          }
          tagged(k, entryTags);
          return v;
        };
    V now;
    if (weighed) {
      int[] sz = STORING_SIZE.get();
      sz[0] = size;
      try {
        now = cache.asMap().compute(key, store);
      } finally {
        sz[0] = -1;
      }
    } else {
      now = cache.asMap().compute(key, store); // on every L2 hit: no size hand-over needed
    }
    // Identity says whether v was stored (no flag to allocate): v was just decoded, so it is
    // normally a new object. A codec that returns shared instances can make a refused fill look
    // stored when L1 already holds that very instance: then one more expiry record (an early drop
    // of that copy at worst, see L1Deadlines, never a late serve) and one more count in warming.
    if (now != v) {
      return false;
    }
    expires(key, v, expiresAt);
    tidyTags();
    return true;
  }

  private void tagged(K key, String[] entryTags) {
    if (entryTags.length > 0) {
      tags.put(key, entryTags);
    } else if (!tags.isEmpty()) {
      tags.remove(key);
    }
  }

  /** Removes the copy of {@code key}, as part of a write of the key. */
  void invalidate(K key) {
    cache
        .asMap()
        .compute(
            key,
            (k, old) -> {
              tags.remove(k);
              return null;
            });
  }

  /** Removes every copy carrying {@code tag} (run as a write of every key). */
  long dropTagged(String tag) {
    long n = 0;
    for (Map.Entry<K, String[]> e : tags.entrySet()) {
      if (Arrays.asList(e.getValue()).contains(tag)) {
        if (cache.asMap().containsKey(e.getKey())) {
          n++;
        }
        invalidate(e.getKey());
      }
    }
    return n;
  }

  /** Calls {@code test} on each copy (weakly consistent); returns the keys it accepted. */
  void forEach(BiPredicate<? super K, ? super V> test, Consumer<K> matched) {
    for (Map.Entry<K, V> e : cache.asMap().entrySet()) {
      if (test.test(e.getKey(), e.getValue())) {
        matched.accept(e.getKey());
      }
    }
  }

  /**
   * Drops side-map entries whose copy is gone (expired), once they outnumber L1; each check runs in
   * a {@code compute} of its key, so it cannot race a store of that key.
   */
  private void tidyTags() {
    int n = tags.size();
    if (n < 1024 || n <= 2 * cache.estimatedSize()) {
      return;
    }
    for (K k : tags.keySet()) {
      cache
          .asMap()
          .compute(
              k,
              (kk, v) -> {
                if (v == null) {
                  tags.remove(kk);
                }
                return v;
              });
    }
  }

  /** Removes every copy (run as a write of every key). */
  void invalidateAll() {
    // expiry records become stale, dropped later (clearing them could race a put)
    cache.invalidateAll();
    tags.clear();
  }

  /** Removes copies due by the exact clock now and runs Caffeine's maintenance. */
  void purgeExpired() {
    long now = clock.millis();
    if (now >= deadlines.next()) {
      expireDue(now);
    }
    cache.cleanUp();
  }

  void close() {
    closed = true;
    if (sweeper != null) {
      sweeper.unregister(sweep);
    }
    cache.invalidateAll();
    tags.clear();
    deadlines.clear();
    if (coarseClock != null) {
      coarseClock.release();
    }
  }

  /** Drops the copy of {@code key} only, as an eviction would (for tests). */
  void evictForTest(K key) {
    cache.invalidate(key);
  }

  /** Total weight (encoded bytes, each entry at least max-weight / max-entries; for tests). */
  long weightForTest() {
    cache.cleanUp();
    return cache.policy().eviction().map(e -> e.weightedSize().orElse(-1)).orElse(-1L);
  }

  /** Number of expiry records, live and stale (for tests). */
  int deadlineRecords() {
    return deadlines.size();
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  /**
   * The encoded size of the value being stored by this thread, for the weigher (-1: not known).
   * Every store has the encoded bytes at hand (it wrote or read them for a tier); Caffeine calls
   * the weigher on the storing thread, so handing the size over here saves encoding the value a
   * second time. A store without it (none today) falls back to encoding.
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

  /** Runs a store of a value of {@code size} encoded bytes (see {@link #STORING_SIZE}). */
  private static void storing(int size, Runnable store) {
    int[] s = STORING_SIZE.get();
    s[0] = size;
    try {
      store.run();
    } finally {
      s[0] = -1;
    }
  }
}
