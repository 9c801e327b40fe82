package io.cairn.backend.memory;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Capability;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StoreNames;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * The heap-only backend. Holds key-value namespaces, logs and snapshot sets in concurrent maps; no
 * file is ever written and nothing survives {@link #close()}.
 *
 * <h2>Concurrency</h2>
 *
 * One backend-wide {@link ReentrantReadWriteLock}:
 *
 * <ul>
 *   <li>Single-key operations, single appends, point reads and snapshot operations hold the
 *       <em>shared</em> side; they are atomic per key through the concurrent maps underneath, so
 *       they run in parallel.
 *   <li>{@link KeyValueStore#putAll}, {@link LogStore#appendAll} and whole transactions ({@link
 *       #inTransaction}) hold the <em>exclusive</em> side, so no reader of a point value sees half
 *       of them, and transactions are serialised as the SPI demands.
 *   <li>{@link #close()} takes the exclusive side too, so it waits for in-flight operations;
 *       afterwards every call, including on iterators and snapshot streams handed out earlier,
 *       throws {@link BackendClosedException}.
 * </ul>
 *
 * Scans do not hold the lock while the caller iterates: they walk the live skip list and are weakly
 * consistent (every entry live for the whole iteration is returned, in order).
 *
 * <p>{@link #readTransaction} ({@link Capability#SNAPSHOT_READS}) copies the maps of every
 * namespace and log under the exclusive lock (references to immutable records, linear in the number
 * of entries and records held), then runs the work on the copy without a lock: writers wait for the
 * copy, never for the work (see {@link MemoryReadView}).
 *
 * <h2>Durability</h2>
 *
 * {@link Durability#NONE} only, and no {@link Capability#DURABLE}: closing the backend or ending
 * the process loses everything.
 *
 * <h2>Snapshots: on the heap, with a limit</h2>
 *
 * No {@link Capability#LARGE_SNAPSHOTS}: a snapshot is held on the heap, so one save accepts at
 * most {@code max-snapshot-bytes} (default a quarter of the maximum heap) and a bigger one throws
 * {@link IllegalArgumentException} naming the key, before the JVM could run out of memory. Spilling
 * snapshots to temporary files was rejected: this backend's promise is that it writes no file, it
 * would then own disk space, permissions and clean-up after a killed JVM (temporary files outlive a
 * {@code kill -9}), and the durable backends already stream snapshots of any size. There are no
 * engine failures to translate; the single translation point, {@link #engineFailure}, covers I/O
 * errors from a caller's snapshot input stream.
 */
final class MemoryBackend implements StorageBackend {
  private final String name;
  private final Clock clock;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final ConcurrentMap<String, MemoryKeyValueStore> kv = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, MemoryLogStore> logs = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, MemorySnapshotStore> snapshots = new ConcurrentHashMap<>();
  private volatile boolean closed;

  private final long maxSnapshotBytes;

  /**
   * Test hook: called on the committing thread after each step of a transaction's commit (still
   * under the exclusive lock), so a test can run a reader at exactly that point.
   */
  volatile java.util.function.Consumer<String> commitStepHook;

  MemoryBackend(BackendContext context, long maxSnapshotBytes) {
    this.name = context.name();
    this.clock = context.clock();
    this.maxSnapshotBytes = maxSnapshotBytes;
  }

  /** Largest snapshot one save accepts ({@code max-snapshot-bytes}). */
  long maxSnapshotBytes() {
    return maxSnapshotBytes;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public String type() {
    return MemoryBackendProvider.TYPE;
  }

  @Override
  public Durability durability() {
    return Durability.NONE;
  }

  @Override
  public Set<Capability> capabilities() {
    return Collections.unmodifiableSet(EnumSet.of(Capability.SNAPSHOT_READS));
  }

  @Override
  public KeyValueStore keyValue(String namespace) {
    StoreNames.check("key-value namespace", namespace);
    return shared(() -> kv.computeIfAbsent(namespace, n -> new MemoryKeyValueStore(this, n)));
  }

  @Override
  public LogStore log(String logName) {
    StoreNames.check("log", logName);
    return shared(() -> logs.computeIfAbsent(logName, n -> new MemoryLogStore(this, n)));
  }

  @Override
  public SnapshotStore snapshots(String setName) {
    StoreNames.check("snapshot set", setName);
    return shared(() -> snapshots.computeIfAbsent(setName, n -> new MemorySnapshotStore(this, n)));
  }

  @Override
  public <T> T inTransaction(Transaction.Work<T> work) {
    java.util.Objects.requireNonNull(work, "work");
    if (lock.isWriteLockedByCurrentThread()) {
      throw new IllegalStateException(
          "Memory backend '" + name + "': transactions do not nest; this thread is in one already");
    }
    return exclusive(
        () -> {
          MemoryTransaction tx = new MemoryTransaction(this);
          T result;
          try {
            result = work.run(tx);
          } finally {
            tx.end();
          }
          tx.commit();
          return result;
        });
  }

  /**
   * Copies every namespace and log under the exclusive lock (writers wait for the copy, see {@link
   * MemoryReadView}), then runs {@code work} on the copy without any lock.
   */
  @Override
  public <T> T readTransaction(Transaction.ReadWork<T> work) {
    java.util.Objects.requireNonNull(work, "work");
    if (lock.isWriteLockedByCurrentThread()) {
      throw new IllegalStateException(
          "Memory backend '"
              + name
              + "': readTransaction() cannot run inside a transaction; read through its view");
    }
    MemoryReadView view = exclusive(() -> new MemoryReadView(this, kv, logs));
    return work.run(view);
  }

  @Override
  public SortedSet<StoreId> stores() {
    return shared(
        () -> {
          SortedSet<StoreId> ids = new TreeSet<>();
          kv.keySet().forEach(n -> ids.add(new StoreId(StoreKind.KEY_VALUE, n)));
          logs.keySet().forEach(n -> ids.add(new StoreId(StoreKind.LOG, n)));
          snapshots.keySet().forEach(n -> ids.add(new StoreId(StoreKind.SNAPSHOT, n)));
          return Collections.unmodifiableSortedSet(ids);
        });
  }

  @Override
  public BackendStats stats() {
    return shared(
        () -> {
          List<StoreStats> list = new ArrayList<>();
          kv.values().forEach(s -> list.add(s.stats()));
          logs.values().forEach(s -> list.add(s.stats()));
          snapshots.values().forEach(s -> list.add(s.stats()));
          list.sort((a, b) -> a.store().compareTo(b.store()));
          Map<String, String> props = new LinkedHashMap<>();
          props.put("durability", Durability.NONE.configName());
          props.put("storage", "heap");
          return new BackendStats(name, type(), list, -1, props);
        });
  }

  /**
   * Checks that every log's records are gap-free between its first and next offset and that every
   * snapshot's chunks still match the recorded length and CRC-32C.
   */
  @Override
  public VerifyReport verify(Progress progress) {
    return shared(
        () -> {
          List<String> problems = new ArrayList<>();
          long total = (long) kv.size() + logs.size() + snapshots.size();
          long done = 0;
          done += kv.size(); // nothing to check: the maps hold no derived data
          progress.report("key-value", done, total);
          for (MemoryLogStore s : logs.values()) {
            s.verify(problems);
            progress.report("logs", ++done, total);
          }
          long checked = done;
          for (MemorySnapshotStore s : snapshots.values()) {
            checked += s.verify(problems);
            progress.report("snapshots", ++done, total);
          }
          return new VerifyReport(name, checked, problems);
        });
  }

  /** Purges expired entries from every namespace; memory needs no other compaction. */
  @Override
  public void compact(Progress progress) {
    ensureOpen();
    List<MemoryKeyValueStore> stores = new ArrayList<>(kv.values());
    long done = 0;
    for (MemoryKeyValueStore s : stores) {
      s.purgeExpired();
      progress.report("purge-expired", ++done, stores.size());
    }
  }

  @Override
  public HealthCheck.Result health() {
    return closed
        ? HealthCheck.Result.unhealthy("memory backend '" + name + "' is closed")
        : HealthCheck.Result.healthy("memory backend '" + name + "' is open (durability none)");
  }

  /** Waits for in-flight operations, then drops all data. Idempotent. */
  @Override
  public void close() {
    lock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      kv.values().forEach(MemoryKeyValueStore::clear);
      logs.values().forEach(MemoryLogStore::clear);
      snapshots.values().forEach(MemorySnapshotStore::clear);
      // forget the stores too: a closed backend still referenced (by a registry, a caller) must
      // not keep a hundred thousand empty stores alive
      kv.clear();
      logs.clear();
      snapshots.clear();
    } finally {
      lock.writeLock().unlock();
    }
  }

  @Override
  public String toString() {
    return "memory backend '" + name + "'";
  }

  // ---- helpers for the store classes ----

  Clock clock() {
    return clock;
  }

  void commitStep(String step) {
    java.util.function.Consumer<String> hook = commitStepHook;
    if (hook != null) {
      hook.accept(step);
    }
  }

  long now() {
    return clock.millis();
  }

  void ensureOpen() {
    if (closed) {
      throw new BackendClosedException(name);
    }
  }

  /** Runs {@code op} holding the shared lock, after checking the backend is open. */
  <T> T shared(Supplier<T> op) {
    lock.readLock().lock();
    try {
      ensureOpen();
      return op.get();
    } finally {
      lock.readLock().unlock();
    }
  }

  /** Runs {@code op} holding the exclusive lock, after checking the backend is open. */
  <T> T exclusive(Supplier<T> op) {
    lock.writeLock().lock();
    try {
      ensureOpen();
      return op.get();
    } finally {
      lock.writeLock().unlock();
    }
  }

  MemoryKeyValueStore kvStore(String namespace) {
    return (MemoryKeyValueStore) keyValue(namespace);
  }

  MemoryLogStore logStore(String logName) {
    return (MemoryLogStore) log(logName);
  }

  /** The one place an I/O failure becomes a Cairn exception. */
  StorageEngineException engineFailure(String what, IOException e) {
    return new StorageEngineException(
        what
            + " in memory backend '"
            + name
            + "' failed: "
            + e.getMessage()
            + "; nothing was stored. Check the input stream and retry.",
        e);
  }
}
