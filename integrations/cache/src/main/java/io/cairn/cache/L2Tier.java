package io.cairn.cache;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The persistent tier of one cache, guarded against failure.
 *
 * <p>Stored layout: one key-value namespace {@code cache.<name>} on the configured backend; the key
 * is the key codec's bytes, the value the value codec's bytes, the expiry the entry's TTL in the
 * store (so an entry whose TTL passed while the service was down is invisible after restart).
 *
 * <h2>Degradation</h2>
 *
 * <p>When an operation fails with a storage error, the tier turns <em>degraded</em>: it logs one
 * warning, and until the retry time (retry-initial, doubling up to retry-max while failures
 * continue, by the registry clock) every read reports "unavailable" and every write is skipped.
 * Keys written or invalidated while degraded, or whose write failed, are remembered as dirty (at
 * most {@value #MAX_DIRTY}; beyond that the whole namespace is marked dirty). The first call after
 * the retry time first deletes the dirty keys (or clears the namespace) so that L2 can never serve
 * a value older than one written during the outage, and only then reports the tier healthy again.
 *
 * <p>Argument errors ({@link IllegalArgumentException}, e.g. a key longer than the store allows)
 * are the caller's and are rethrown, not treated as L2 failures. Thread-safe.
 */
final class L2Tier {
  private static final Logger log = LoggerFactory.getLogger(L2Tier.class);
  static final int MAX_DIRTY = 10_000;
  private static final int CLEAR_BATCH = 1000;

  /** Returned by {@link #get} when the tier cannot be used. Compared by identity. */
  static final Optional<Entry> UNAVAILABLE = Optional.of(new Entry(new byte[1], new byte[0], 1, 0));

  private final String cacheName;
  private final KeyValueStore store;
  private final Clock clock;
  private final Duration retryInitial;
  private final Duration retryMax;
  private final LongAdder errors = new LongAdder();

  private volatile boolean degraded;
  private volatile long retryAt;
  // guarded by this
  private long backoffMillis;
  private final Set<ByteBuffer> dirty = new HashSet<>();
  private boolean dirtyAll;
  private String lastError = "";
  private long degradedSince;

  L2Tier(String cacheName, KeyValueStore store, Clock clock, Duration initial, Duration max) {
    this.cacheName = cacheName;
    this.store = store;
    this.clock = clock;
    this.retryInitial = initial;
    this.retryMax = max;
  }

  boolean degraded() {
    return degraded;
  }

  long errors() {
    return errors.sum();
  }

  /** The live entry, empty if absent, or {@link #UNAVAILABLE}. */
  Optional<Entry> get(byte[] key) {
    if (!usable()) {
      return UNAVAILABLE;
    }
    try {
      return store.getEntry(key);
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      failed(e, null);
      return UNAVAILABLE;
    }
  }

  /** Writes (or, when degraded, remembers the key as dirty). {@code ttl} null: no expiry. */
  void put(byte[] key, byte[] value, Duration ttl) {
    if (!usable()) {
      markDirty(key);
      return;
    }
    try {
      if (ttl == null) {
        store.put(key, value);
      } else {
        store.put(key, value, ttl);
      }
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      failed(e, key);
    }
  }

  /** Deletes (or, when degraded, remembers the key as dirty). */
  void delete(byte[] key) {
    if (!usable()) {
      markDirty(key);
      return;
    }
    try {
      store.delete(key);
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      failed(e, key);
    }
  }

  /** Deletes every entry (or, when degraded, marks the whole namespace dirty). */
  void clear() {
    if (!usable()) {
      synchronized (this) {
        dirtyAll = true;
        dirty.clear();
      }
      return;
    }
    try {
      deleteAll();
    } catch (RuntimeException e) {
      failed(e, null);
      synchronized (this) {
        dirtyAll = true;
        dirty.clear();
      }
    }
  }

  /** Live entries in key order, up to {@code max}; empty when unavailable. */
  List<Entry> scan(int max) {
    List<Entry> out = new ArrayList<>();
    if (!usable()) {
      return out;
    }
    try (CloseableIterator<Entry> it = store.scan(null, null)) {
      while (it.hasNext() && out.size() < max) {
        out.add(it.next());
      }
    } catch (RuntimeException e) {
      failed(e, null);
    }
    return out;
  }

  /** Physically removes expired entries; returns how many (0 when unavailable). */
  long purgeExpired() {
    if (!usable()) {
      return 0;
    }
    try {
      return store.purgeExpired();
    } catch (RuntimeException e) {
      failed(e, null);
      return 0;
    }
  }

  private void deleteAll() {
    while (true) {
      List<byte[]> keys = new ArrayList<>(CLEAR_BATCH);
      try (CloseableIterator<Entry> it = store.scan(null, null)) {
        while (it.hasNext() && keys.size() < CLEAR_BATCH) {
          keys.add(it.next().key());
        }
      }
      if (keys.isEmpty()) {
        return;
      }
      for (byte[] k : keys) {
        store.delete(k);
      }
    }
  }

  private boolean usable() {
    if (!degraded) {
      return true;
    }
    if (clock.millis() < retryAt) {
      return false;
    }
    return tryRecover();
  }

  private synchronized boolean tryRecover() {
    if (!degraded) {
      return true;
    }
    long now = clock.millis();
    if (now < retryAt) {
      return false;
    }
    try {
      if (dirtyAll) {
        deleteAll();
      } else {
        for (ByteBuffer k : dirty) {
          store.delete(k.array());
        }
      }
      int reconciled = dirtyAll ? -1 : dirty.size();
      dirty.clear();
      dirtyAll = false;
      degraded = false;
      backoffMillis = 0;
      log.info(
          "Cache '{}': L2 tier on store '{}' recovered after {} ms; {} written during the outage"
              + " were dropped from L2",
          cacheName,
          store.name(),
          now - degradedSince,
          reconciled < 0 ? "all entries" : reconciled + " key(s)");
      return true;
    } catch (RuntimeException e) {
      errors.increment();
      scheduleRetry(e, now);
      log.debug("Cache '{}': L2 still failing: {}", cacheName, e.toString());
      return false;
    }
  }

  private void markDirty(byte[] key) {
    synchronized (this) {
      if (degraded) {
        if (dirtyAll) {
          return;
        }
        if (dirty.size() >= MAX_DIRTY) {
          dirtyAll = true;
          dirty.clear();
        } else {
          dirty.add(ByteBuffer.wrap(key.clone()));
        }
        return;
      }
    }
    // The tier recovered between the caller's check and now: the skipped write must not leave an
    // older value in L2, so delete the key now.
    try {
      store.delete(key);
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      failed(e, key);
    }
  }

  private void failed(RuntimeException e, byte[] writtenKey) {
    errors.increment();
    boolean first;
    synchronized (this) {
      first = !degraded;
      long now = clock.millis();
      if (first) {
        degradedSince = now;
        backoffMillis = 0;
      }
      scheduleRetry(e, now);
      degraded = true;
    }
    if (writtenKey != null) {
      markDirty(writtenKey);
    }
    if (first) {
      log.warn(
          "Cache '{}': L2 tier on store '{}' failed ({}); serving from L1 and the loader, retrying"
              + " L2 in {} ms. Further failures are not logged until it recovers.",
          cacheName,
          store.name(),
          e instanceof PersistenceException ? e.getMessage() : e.toString(),
          backoffMillis);
    }
  }

  private synchronized void scheduleRetry(RuntimeException e, long now) {
    backoffMillis =
        backoffMillis == 0
            ? retryInitial.toMillis()
            : Math.min(retryMax.toMillis(), Math.max(1, backoffMillis) * 2);
    retryAt = now + backoffMillis;
    lastError = e.toString();
  }

  HealthCheck.Result health() {
    if (!degraded) {
      return HealthCheck.Result.healthy("cache '" + cacheName + "': L1 and L2 in use");
    }
    synchronized (this) {
      return HealthCheck.Result.builder()
          .unhealthy()
          .withMessage(
              "cache '"
                  + cacheName
                  + "' degraded: L2 store '"
                  + store.name()
                  + "' failing since "
                  + Instant.ofEpochMilli(degradedSince)
                  + " ("
                  + lastError
                  + "); serving from L1 and the loader, next L2 retry at "
                  + Instant.ofEpochMilli(retryAt))
          .withDetail("degraded", true)
          .withDetail("l2Errors", errors.sum())
          .build();
    }
  }
}
