package io.cairn.backend.memory;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.StorageEngine;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;

/**
 * The memory backend's engine: one {@link ConcurrentSkipListMap} per store, ordered by {@link
 * Bytes#UNSIGNED}. Everything else (versions, TTL, offsets, snapshots, transactions, sealing) is
 * {@link io.cairn.persistence.spi.EngineBackend}'s.
 *
 * <p>Atomic batches: {@link #write} of several records holds the exclusive side of a read-write
 * lock, {@link #get} and {@link #range} the shared side, so a reader sees all of a batch or none. A
 * batch of one record (a key-value put or delete, most writes) holds only the shared side: one
 * {@link ConcurrentSkipListMap} put or remove is atomic by itself, so readers see it whole, and
 * such writes run concurrently with each other and with reads. This engine therefore {@link
 * #concurrentWrites() opts in} to the base's concurrent writes (unless built with {@code false},
 * for comparison: {@code concurrent-writes = false}); the base never writes one key in two batches
 * at once. A one-record write falls back to the exclusive side when an open snapshot shares its
 * store's map (the copy-on-write below must not race), and a store emptied by such a delete stays
 * in the table, empty, until an exclusive write touches it (removing it under the shared side could
 * lose a concurrent put to it); {@link #stores()} skips empty stores. Durability is {@link
 * Durability#NONE} whatever is asked: nothing is written anywhere, and {@link #close()} drops
 * everything. Arrays are copied in and out, so neither side can change the other's.
 *
 * <p>Snapshots ({@link #snapshot()}) are copy-on-write per store: taking one records each store's
 * current map and marks it shared, under the exclusive lock, so it waits for a batch being applied
 * and writers wait for it; cost O(number of stores) reference copies, independent of the entries
 * held. A shared map is never modified again: the first batch that writes a store whose map an open
 * snapshot holds first copies that store's map (O(entries of that store), paid once by that writer
 * under the lock) and modifies the copy. Snapshot reads take no lock and never wait for writers.
 * Closing a snapshot unshares the maps it held that are still current, so a store is copied only
 * while a snapshot holding it is open.
 */
final class MemoryEngine implements StorageEngine {
  /** A store's current map, and how many open snapshots hold that very map. */
  private static final class Store {
    ConcurrentSkipListMap<byte[], byte[]> map = new ConcurrentSkipListMap<>(Bytes.UNSIGNED);
    int shares; // guarded by the exclusive lock

    /** The map to modify: a private copy if open snapshots hold the current one. */
    ConcurrentSkipListMap<byte[], byte[]> writable() {
      if (shares > 0) {
        map = new ConcurrentSkipListMap<>(map);
        shares = 0;
      }
      return map;
    }
  }

  private final Map<StoreId, Store> stores = new ConcurrentHashMap<>();
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final boolean concurrentWrites;

  /** An engine that accepts concurrent writes. */
  MemoryEngine() {
    this(true);
  }

  /**
   * @param concurrentWrites whether the base may call {@link #write} from several threads at once
   *     ({@code false}: one write at a time, as before engines could opt in)
   */
  MemoryEngine(boolean concurrentWrites) {
    this.concurrentWrites = concurrentWrites;
  }

  @Override
  public boolean concurrentWrites() {
    return concurrentWrites;
  }

  /**
   * Test hook: called under the exclusive lock after each write of a batch has been applied, with
   * the step's name, so a test can start readers in the middle of a batch. Package-private and null
   * outside tests.
   */
  volatile Consumer<String> writeStepHook;

  @Override
  public byte[] get(StoreId store, byte[] key) {
    lock.readLock().lock();
    try {
      Store s = stores.get(store);
      return s == null ? null : copyOf(s.map.get(key));
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public List<Record> range(StoreId store, byte[] fromInclusive, byte[] toExclusive, int limit) {
    lock.readLock().lock();
    try {
      Store s = stores.get(store);
      return s == null ? List.of() : range(s.map, fromInclusive, toExclusive, limit);
    } finally {
      lock.readLock().unlock();
    }
  }

  private static byte[] copyOf(byte[] v) {
    return v == null ? null : v.clone();
  }

  private static List<Record> range(
      NavigableMap<byte[], byte[]> map, byte[] fromInclusive, byte[] toExclusive, int limit) {
    if (toExclusive != null && Bytes.UNSIGNED.compare(fromInclusive, toExclusive) >= 0) {
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
  }

  @Override
  public void write(List<Write> batch, Durability durability) {
    if (batch.size() == 1 && writeShared(batch.get(0))) {
      return;
    }
    lock.writeLock().lock();
    try {
      int i = 0;
      for (Write w : batch) {
        if (w.isDelete()) {
          Store s = stores.get(w.store());
          if (s != null && s.map.containsKey(w.key())) {
            s.writable().remove(w.key());
            if (s.map.isEmpty()) {
              stores.remove(w.store()); // an emptied store holds no data: not listed
            }
          }
        } else {
          stores
              .computeIfAbsent(w.store(), id -> new Store())
              .writable()
              .put(w.key().clone(), w.value().clone());
        }
        Consumer<String> hook = writeStepHook;
        if (hook != null) {
          hook.accept("after write " + ++i + " of " + batch.size() + " of a batch");
        }
      }
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * Applies {@code w} holding the shared side of the lock, unless an open snapshot shares its
   * store's map: then returns false and the caller takes the exclusive side.
   */
  private boolean writeShared(Write w) {
    lock.readLock().lock();
    try {
      // shares and map change only under the exclusive side: stable while we hold the shared one
      if (w.isDelete()) {
        Store s = stores.get(w.store());
        if (s == null) {
          return true;
        }
        if (s.shares > 0) {
          return false;
        }
        s.map.remove(w.key()); // an emptied store stays listed in `stores` (see the class comment)
      } else {
        Store s = stores.computeIfAbsent(w.store(), id -> new Store());
        if (s.shares > 0) {
          return false;
        }
        s.map.put(w.key().clone(), w.value().clone());
      }
      Consumer<String> hook = writeStepHook;
      if (hook != null) {
        hook.accept("after write 1 of 1 of a batch");
      }
      return true;
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public boolean offersSnapshots() {
    return true;
  }

  /** Copy-on-write per store (see the class comment for the cost and who waits). */
  @Override
  public Snapshot snapshot() {
    lock.writeLock().lock();
    try {
      Map<StoreId, Store> held = new HashMap<>(stores);
      Map<StoreId, NavigableMap<byte[], byte[]>> maps = new HashMap<>(held.size() * 2);
      for (Map.Entry<StoreId, Store> e : held.entrySet()) {
        e.getValue().shares++;
        maps.put(e.getKey(), e.getValue().map);
      }
      return new MemorySnapshot(held, maps);
    } finally {
      lock.writeLock().unlock();
    }
  }

  /**
   * One snapshot: the maps current when it was taken, which no writer modifies while it is open.
   */
  private final class MemorySnapshot implements Snapshot {
    private Map<StoreId, Store> held;
    private Map<StoreId, NavigableMap<byte[], byte[]>> maps;

    MemorySnapshot(Map<StoreId, Store> held, Map<StoreId, NavigableMap<byte[], byte[]>> maps) {
      this.held = held;
      this.maps = maps;
    }

    @Override
    public byte[] get(StoreId store, byte[] key) {
      NavigableMap<byte[], byte[]> map = open().get(store);
      return map == null ? null : copyOf(map.get(key));
    }

    @Override
    public List<Record> range(StoreId store, byte[] fromInclusive, byte[] toExclusive, int limit) {
      NavigableMap<byte[], byte[]> map = open().get(store);
      return map == null ? List.of() : MemoryEngine.range(map, fromInclusive, toExclusive, limit);
    }

    private Map<StoreId, NavigableMap<byte[], byte[]>> open() {
      Map<StoreId, NavigableMap<byte[], byte[]>> m = maps;
      if (m == null) {
        throw new IllegalStateException("memory engine snapshot used after close");
      }
      return m;
    }

    @Override
    public void close() {
      if (maps == null) {
        return;
      }
      lock.writeLock().lock();
      try {
        for (Map.Entry<StoreId, Store> e : held.entrySet()) {
          Store s = e.getValue();
          if (s.map == maps.get(e.getKey())) {
            s.shares--; // still current: writers may modify it in place again once unshared
          }
        }
      } finally {
        lock.writeLock().unlock();
      }
      held = null;
      maps = null;
    }
  }

  @Override
  public SortedSet<StoreId> stores() {
    lock.readLock().lock();
    try {
      TreeSet<StoreId> out = new TreeSet<>();
      stores.forEach(
          (id, s) -> {
            if (!s.map.isEmpty()) { // emptied by a one-record delete (see the class comment)
              out.add(id);
            }
          });
      return Collections.unmodifiableSortedSet(out);
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
    return stores.get(store).map.get(key);
  }
}
