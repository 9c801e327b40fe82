package io.cairn.backend.memory;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.VersionConflictException;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.StoreNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * One key-value namespace: a {@link ConcurrentSkipListMap} ordered by {@link Bytes#UNSIGNED}. Keys
 * and values are copied on the way in and out, so callers may reuse their arrays. Expired entries
 * stay in the map until {@link #purgeExpired()} but every read treats them as absent (version 0).
 */
final class MemoryKeyValueStore implements KeyValueStore {
  /** What the map holds per key. Arrays are never handed out without copying. */
  record Stored(byte[] value, long version, long expiresAtMillis) {
    boolean liveAt(long now) {
      return expiresAtMillis == 0 || now < expiresAtMillis;
    }
  }

  private static final int PURGE_BATCH = 256;

  private final MemoryBackend backend;
  private final String name;
  private final ConcurrentSkipListMap<byte[], Stored> map =
      new ConcurrentSkipListMap<>(Bytes.UNSIGNED);

  MemoryKeyValueStore(MemoryBackend backend, String name) {
    this.backend = backend;
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Optional<Entry> getEntry(byte[] key) {
    StoreNames.checkKey(key);
    return backend.shared(() -> Optional.ofNullable(entryOf(key, liveOrNull(key))));
  }

  @Override
  public long put(byte[] key, byte[] value) {
    return write(key, value, null);
  }

  @Override
  public long put(byte[] key, byte[] value, Duration ttl) {
    StoreNames.checkTtl(ttl, false);
    return write(key, value, ttl);
  }

  private long write(byte[] key, byte[] value, Duration ttl) {
    StoreNames.checkKey(key);
    StoreNames.checkValue(value);
    byte[] k = key.clone();
    byte[] v = value.clone();
    return backend.shared(
        () -> {
          long now = backend.now();
          long expires = StoreNames.expiryMillis(now, ttl);
          return map.compute(k, (kk, old) -> new Stored(v, versionOf(old, now) + 1, expires))
              .version();
        });
  }

  @Override
  public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
    StoreNames.checkKey(key);
    StoreNames.checkValue(value);
    StoreNames.checkTtl(ttl, true);
    checkExpected(expectedVersion);
    byte[] k = key.clone();
    byte[] v = value.clone();
    return backend.shared(
        () -> {
          long now = backend.now();
          long expires = StoreNames.expiryMillis(now, ttl);
          return map.compute(
                  k,
                  (kk, old) -> {
                    long current = versionOf(old, now);
                    if (current != expectedVersion) {
                      throw conflict(kk, expectedVersion, current);
                    }
                    return new Stored(v, current + 1, expires);
                  })
              .version();
        });
  }

  @Override
  public boolean delete(byte[] key) {
    StoreNames.checkKey(key);
    return backend.shared(
        () -> {
          long now = backend.now();
          boolean[] removedLive = new boolean[1];
          map.computeIfPresent(
              key,
              (kk, old) -> {
                removedLive[0] = old.liveAt(now);
                return null;
              });
          return removedLive[0];
        });
  }

  @Override
  public void compareAndDelete(byte[] key, long expectedVersion) {
    StoreNames.checkKey(key);
    checkExpected(expectedVersion);
    backend.shared(
        () -> {
          long now = backend.now();
          map.compute(
              key.clone(),
              (kk, old) -> {
                long current = versionOf(old, now);
                if (current != expectedVersion || current == 0) {
                  throw conflict(kk, expectedVersion, current);
                }
                return null;
              });
          return null;
        });
  }

  @Override
  public void putAll(Collection<KeyValue> entries) {
    Objects.requireNonNull(entries, "entries");
    List<KeyValue> copies = new ArrayList<>(entries.size());
    for (KeyValue e : entries) {
      Objects.requireNonNull(e, "entry");
      StoreNames.checkKey(e.key());
      StoreNames.checkValue(e.value());
      copies.add(new KeyValue(e.key().clone(), e.value().clone()));
    }
    backend.exclusive(
        () -> {
          long now = backend.now();
          for (KeyValue e : copies) {
            putInternal(e.key(), e.value(), 0, now);
          }
          return null;
        });
  }

  @Override
  public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
    byte[] from = fromInclusive == null ? null : fromInclusive.clone();
    byte[] to = toExclusive == null ? null : toExclusive.clone();
    return backend.shared(
        () -> {
          NavigableMap<byte[], Stored> range;
          if (from != null && to != null) {
            range =
                Bytes.UNSIGNED.compare(from, to) >= 0
                    ? java.util.Collections.emptyNavigableMap()
                    : map.subMap(from, true, to, false);
          } else if (from != null) {
            range = map.tailMap(from, true);
          } else if (to != null) {
            range = map.headMap(to, false);
          } else {
            range = map;
          }
          return new ScanIterator(backend, name, range.entrySet().iterator(), backend::now);
        });
  }

  @Override
  public long purgeExpired() {
    long removed = 0;
    Iterator<Map.Entry<byte[], Stored>> it = backend.shared(() -> map.entrySet().iterator());
    boolean more = true;
    while (more) {
      long[] batch = new long[1];
      more =
          backend.shared(
              () -> {
                long now = backend.now();
                for (int i = 0; i < PURGE_BATCH; i++) {
                  if (!it.hasNext()) {
                    return false;
                  }
                  Map.Entry<byte[], Stored> e = it.next();
                  if (!e.getValue().liveAt(now) && map.remove(e.getKey(), e.getValue())) {
                    batch[0]++;
                  }
                }
                return true;
              });
      removed += batch[0];
    }
    return removed;
  }

  @Override
  public long approximateCount() {
    return backend.shared(
        () -> {
          long now = backend.now();
          return map.values().stream().filter(s -> s.liveAt(now)).count();
        });
  }

  @Override
  public String toString() {
    return "key-value namespace '" + name + "' of " + backend;
  }

  // ---- used by MemoryBackend and MemoryTransaction (callers hold the right lock) ----

  /** The live stored entry, or null. Caller holds a lock. */
  Stored liveOrNull(byte[] key) {
    Stored s = map.get(key);
    return s != null && s.liveAt(backend.now()) ? s : null;
  }

  /** Writes without checks; {@code k} and {@code v} must be private copies. Caller holds a lock. */
  long putInternal(byte[] k, byte[] v, long expiresAtMillis, long now) {
    return map.compute(k, (kk, old) -> new Stored(v, versionOf(old, now) + 1, expiresAtMillis))
        .version();
  }

  /** Stores exactly {@code stored} (a transaction's precomputed result). Caller holds the lock. */
  void install(byte[] k, Stored stored) {
    if (stored == null) {
      map.remove(k);
    } else {
      map.put(k, stored);
    }
  }

  StoreStats stats() {
    long now = backend.now();
    long entries = 0;
    long bytes = 0;
    for (Map.Entry<byte[], Stored> e : map.entrySet()) {
      if (e.getValue().liveAt(now)) {
        entries++;
        bytes += e.getKey().length + e.getValue().value().length;
      }
    }
    return new StoreStats(new StoreId(StoreKind.KEY_VALUE, name), entries, bytes);
  }

  void clear() {
    map.clear();
  }

  /** A copy of the map for a read transaction. Caller holds the exclusive lock. */
  NavigableMap<byte[], Stored> copyMap() {
    return MemoryReadView.copyOf(map);
  }

  String where(byte[] key) {
    return "key " + Bytes.toDisplay(key) + " in namespace '" + name + "' of " + backend;
  }

  VersionConflictException conflict(byte[] key, long expected, long actual) {
    return new VersionConflictException(where(key), expected, actual);
  }

  static long versionOf(Stored s, long now) {
    return s != null && s.liveAt(now) ? s.version() : 0;
  }

  static Entry entryOf(byte[] key, Stored s) {
    return s == null
        ? null
        : new Entry(key.clone(), s.value().clone(), s.version(), s.expiresAtMillis());
  }

  static void checkExpected(long expectedVersion) {
    StoreNames.checkExpectedVersion(expectedVersion);
  }

  /**
   * Streams the entries live at {@code now} lazily (the clock at each entry for a scan of the live
   * map, the snapshot's instant for a read transaction's copy); every call checks that the backend
   * is still open.
   */
  static final class ScanIterator implements CloseableIterator<Entry> {
    private final MemoryBackend backend;
    private final String name;
    private final Iterator<Map.Entry<byte[], Stored>> it;
    private final java.util.function.LongSupplier now;
    private Entry next;
    private boolean closed;

    ScanIterator(
        MemoryBackend backend,
        String name,
        Iterator<Map.Entry<byte[], Stored>> it,
        java.util.function.LongSupplier now) {
      this.backend = backend;
      this.name = name;
      this.it = it;
      this.now = now;
    }

    @Override
    public boolean hasNext() {
      backend.ensureOpen();
      if (closed) {
        return false;
      }
      while (next == null && it.hasNext()) {
        Map.Entry<byte[], Stored> e = it.next();
        if (e.getValue().liveAt(now.getAsLong())) {
          next = entryOf(e.getKey(), e.getValue());
        }
      }
      return next != null;
    }

    @Override
    public Entry next() {
      if (!hasNext()) {
        throw new NoSuchElementException("scan of namespace '" + name + "' has no more entries");
      }
      Entry e = next;
      next = null;
      return e;
    }

    @Override
    public void close() {
      closed = true;
      next = null;
    }
  }
}
