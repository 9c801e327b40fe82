package io.cairn.backend.memory;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.StorageEngine;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The memory backend's engine: one {@link ConcurrentSkipListMap} per store, ordered by {@link
 * Bytes#UNSIGNED}. Everything else (versions, TTL, offsets, snapshots, transactions, sealing) is
 * {@link io.cairn.persistence.spi.EngineBackend}'s.
 *
 * <p>Atomic batches: {@link #write} holds the exclusive side of a read-write lock, {@link #get} and
 * {@link #range} the shared side, so a reader sees all of a batch or none. Durability is {@link
 * Durability#NONE} whatever is asked: nothing is written anywhere, and {@link #close()} drops
 * everything. Arrays are copied in and out, so neither side can change the other's.
 */
final class MemoryEngine implements StorageEngine {
  private final Map<StoreId, ConcurrentSkipListMap<byte[], byte[]>> stores =
      new ConcurrentHashMap<>();
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

  @Override
  public byte[] get(StoreId store, byte[] key) {
    lock.readLock().lock();
    try {
      NavigableMap<byte[], byte[]> map = stores.get(store);
      byte[] v = map == null ? null : map.get(key);
      return v == null ? null : v.clone();
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public List<Record> range(StoreId store, byte[] fromInclusive, byte[] toExclusive, int limit) {
    lock.readLock().lock();
    try {
      NavigableMap<byte[], byte[]> map = stores.get(store);
      if (map == null
          || (toExclusive != null && Bytes.UNSIGNED.compare(fromInclusive, toExclusive) >= 0)) {
        return List.of();
      }
      NavigableMap<byte[], byte[]> sub =
          toExclusive == null
              ? map.tailMap(fromInclusive, true)
              : map.subMap(fromInclusive, true, toExclusive, false);
      List<Record> out = new ArrayList<>(Math.min(limit, 256));
      for (Map.Entry<byte[], byte[]> e : sub.entrySet()) {
        if (out.size() >= limit) {
          break;
        }
        out.add(new Record(e.getKey().clone(), e.getValue().clone()));
      }
      return out;
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void write(List<Write> batch, Durability durability) {
    lock.writeLock().lock();
    try {
      for (Write w : batch) {
        if (w.isDelete()) {
          NavigableMap<byte[], byte[]> map = stores.get(w.store());
          if (map != null) {
            map.remove(w.key());
            if (map.isEmpty()) {
              stores.remove(w.store()); // an emptied store holds no data: not listed
            }
          }
        } else {
          stores
              .computeIfAbsent(w.store(), s -> new ConcurrentSkipListMap<>(Bytes.UNSIGNED))
              .put(w.key().clone(), w.value().clone());
        }
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public SortedSet<StoreId> stores() {
    lock.readLock().lock();
    try {
      return Collections.unmodifiableSortedSet(new TreeSet<>(stores.keySet()));
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public Map<String, String> properties() {
    return Map.of("storage", "heap");
  }

  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      stores.clear();
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * The stored (not copied) value of {@code key} in {@code store}. Only for tests that simulate
   * damage in memory (a bit flip) to prove that reads and verify detect it.
   */
  byte[] storedValue(StoreId store, byte[] key) {
    return stores.get(store).get(key);
  }
}
