package io.cairn.backend.memory;

import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.spi.StoreNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * One log: records in a {@link ConcurrentSkipListMap} by offset. Appends are serialised on this
 * object's monitor; {@link #nextOffset} is published only after the record is in the map, so a
 * reader never sees a gap below it. {@link #firstOffset} only grows and {@link #nextOffset} never
 * goes back, so truncation never leads to an offset being handed out twice.
 */
final class MemoryLogStore implements LogStore {
  private final MemoryBackend backend;
  private final String name;
  private final ConcurrentSkipListMap<Long, byte[]> records = new ConcurrentSkipListMap<>();
  private volatile long first;
  private volatile long next;

  MemoryLogStore(MemoryBackend backend, String name) {
    this.backend = backend;
    this.name = name;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long append(byte[] payload) {
    byte[] copy = checkPayload(payload).clone();
    return backend.shared(() -> appendInternal(List.of(copy)));
  }

  @Override
  public long appendAll(List<byte[]> payloads) {
    List<byte[]> copies = copyAll(payloads);
    if (copies.isEmpty()) {
      return nextOffset();
    }
    return backend.exclusive(() -> appendInternal(copies));
  }

  @Override
  public List<LogRecord> read(long fromOffset, int maxRecords) {
    StoreNames.checkOffset("fromOffset", fromOffset);
    StoreNames.checkMaxRecords(maxRecords);
    return backend.shared(
        () -> {
          long end = next; // read the bound first: everything below it is in the map
          long start = Math.max(fromOffset, first);
          List<LogRecord> out = new ArrayList<>(Math.min(maxRecords, 1024));
          for (Map.Entry<Long, byte[]> e : records.tailMap(start, true).entrySet()) {
            if (e.getKey() >= end || out.size() >= maxRecords) {
              break;
            }
            out.add(new LogRecord(e.getKey(), e.getValue().clone()));
          }
          return out;
        });
  }

  @Override
  public long firstOffset() {
    return backend.shared(() -> first);
  }

  @Override
  public long nextOffset() {
    return backend.shared(() -> next);
  }

  @Override
  public long truncateBefore(long offset) {
    StoreNames.checkOffset("truncateBefore offset", offset);
    return backend.shared(
        () -> {
          synchronized (this) {
            long target = Math.min(offset, next);
            if (target <= first) {
              return 0L;
            }
            long removed = target - first;
            first = target; // publish the new start first, so readers never look for removed data
            records.headMap(target, false).clear();
            return removed;
          }
        });
  }

  @Override
  public String toString() {
    return "log '" + name + "' of " + backend;
  }

  // ---- used by MemoryBackend and MemoryTransaction ----

  /** Appends private copies with consecutive offsets; returns the first. Caller holds a lock. */
  synchronized long appendInternal(List<byte[]> copies) {
    long start = next;
    long offset = start;
    for (byte[] p : copies) {
      records.put(offset++, p);
    }
    next = offset;
    return start;
  }

  /** Next offset as seen by a transaction holding the exclusive lock. */
  long nextOffsetUnlocked() {
    return next;
  }

  void verify(List<String> problems) {
    long f = first;
    long n = next;
    long expected = n - f;
    long actual = records.headMap(n, false).tailMap(f, true).size();
    if (actual != expected) {
      problems.add(
          this
              + ": "
              + actual
              + " records between offsets "
              + f
              + " and "
              + n
              + ", expected "
              + expected);
    }
  }

  StoreStats stats() {
    long bytes = 0;
    for (byte[] p : records.values()) {
      bytes += p.length;
    }
    return new StoreStats(new StoreId(StoreKind.LOG, name), next - first, bytes);
  }

  void clear() {
    records.clear();
  }

  /**
   * A copy of the retained records for a read transaction; {@code bounds} receives first and next.
   * Caller holds the exclusive lock, so no append or truncation is half done.
   */
  java.util.NavigableMap<Long, byte[]> copyRecords(long[] bounds) {
    long f = first;
    long n = next;
    bounds[0] = f;
    bounds[1] = n;
    return new java.util.TreeMap<>(records.subMap(f, true, n, false));
  }

  static byte[] checkPayload(byte[] payload) {
    StoreNames.checkPayload(payload);
    return payload;
  }

  static List<byte[]> copyAll(List<byte[]> payloads) {
    Objects.requireNonNull(payloads, "payloads");
    List<byte[]> copies = new ArrayList<>(payloads.size());
    for (byte[] p : payloads) {
      copies.add(checkPayload(p).clone());
    }
    return copies;
  }
}
