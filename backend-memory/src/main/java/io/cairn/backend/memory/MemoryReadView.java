package io.cairn.backend.memory;

import io.cairn.backend.memory.MemoryKeyValueStore.Stored;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.StoreNames;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The memory backend's read transaction: a copy of every namespace's and log's map, taken while the
 * backend's exclusive lock is held (so no write is half done), and the clock read once. The copy
 * holds references to the immutable stored records, not their bytes: about one map node (some 40
 * bytes) per entry and record. Writers wait for the copy, never for the work; the work reads only
 * the copy, so it never waits for writers either. A versioned (multi-version) map would not make
 * writers wait even for the copy, but would put a version chain and its clean-up on every write of
 * the reference backend; the copy keeps the write path as it is.
 */
final class MemoryReadView implements Transaction.ReadView {
  private record LogCopy(long first, long next, NavigableMap<Long, byte[]> records) {}

  private static final LogCopy EMPTY_LOG = new LogCopy(0, 0, Collections.emptyNavigableMap());

  private final MemoryBackend backend;
  private final long now;
  private final Map<String, NavigableMap<byte[], Stored>> kv = new HashMap<>();
  private final Map<String, LogCopy> logs = new HashMap<>();

  /** Copies the backend's state; the caller holds the exclusive lock. */
  MemoryReadView(
      MemoryBackend backend,
      Map<String, MemoryKeyValueStore> kvStores,
      Map<String, MemoryLogStore> logStores) {
    this.backend = backend;
    this.now = backend.now();
    kvStores.forEach((name, store) -> kv.put(name, store.copyMap()));
    logStores.forEach(
        (name, log) -> {
          long[] bounds = new long[2];
          NavigableMap<Long, byte[]> records = log.copyRecords(bounds);
          logs.put(name, new LogCopy(bounds[0], bounds[1], records));
        });
  }

  @Override
  public Transaction.KeyValueReader keyValue(String namespace) {
    StoreNames.check("key-value namespace", namespace);
    backend.ensureOpen();
    // an unknown namespace is empty; a TreeMap with the comparator, which byte[] keys need
    NavigableMap<byte[], Stored> map =
        kv.getOrDefault(
            namespace, Collections.unmodifiableNavigableMap(new TreeMap<>(Bytes.UNSIGNED)));
    return new Transaction.KeyValueReader() {
      @Override
      public Optional<Entry> getEntry(byte[] key) {
        StoreNames.checkKey(key);
        backend.ensureOpen();
        Stored s = map.get(key);
        return Optional.ofNullable(
            s != null && s.liveAt(now) ? MemoryKeyValueStore.entryOf(key, s) : null);
      }

      @Override
      public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
        backend.ensureOpen();
        NavigableMap<byte[], Stored> range = map;
        if (fromInclusive != null
            && toExclusive != null
            && Bytes.UNSIGNED.compare(fromInclusive, toExclusive) >= 0) {
          range = Collections.unmodifiableNavigableMap(new TreeMap<>(Bytes.UNSIGNED));
        } else {
          if (fromInclusive != null) {
            range = range.tailMap(fromInclusive.clone(), true);
          }
          if (toExclusive != null) {
            range = range.headMap(toExclusive.clone(), false);
          }
        }
        return new MemoryKeyValueStore.ScanIterator(
            backend, namespace, range.entrySet().iterator(), () -> now);
      }
    };
  }

  @Override
  public Transaction.LogReader log(String name) {
    StoreNames.check("log", name);
    backend.ensureOpen();
    LogCopy log = logs.getOrDefault(name, EMPTY_LOG);
    return new Transaction.LogReader() {
      @Override
      public List<LogRecord> read(long fromOffset, int maxRecords) {
        StoreNames.checkOffset("fromOffset", fromOffset);
        StoreNames.checkMaxRecords(maxRecords);
        backend.ensureOpen();
        List<LogRecord> out = new ArrayList<>(Math.min(maxRecords, 1024));
        long start = Math.max(fromOffset, log.first());
        for (Map.Entry<Long, byte[]> e : log.records().tailMap(start, true).entrySet()) {
          if (out.size() >= maxRecords) {
            break;
          }
          out.add(new LogRecord(e.getKey(), e.getValue().clone()));
        }
        return out;
      }

      @Override
      public long firstOffset() {
        backend.ensureOpen();
        return log.first();
      }

      @Override
      public long nextOffset() {
        backend.ensureOpen();
        return log.next();
      }
    };
  }

  /** A copy of {@code map} in the same order; linear in its size. */
  static NavigableMap<byte[], Stored> copyOf(NavigableMap<byte[], Stored> map) {
    return new TreeMap<>(map);
  }
}
