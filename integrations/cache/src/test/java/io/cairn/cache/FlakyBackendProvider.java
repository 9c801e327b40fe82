package io.cairn.cache;

import io.cairn.backend.memory.MemoryBackendProvider;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Capability;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageBackendProvider;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test backend type {@code flaky}: a memory backend whose key-value stores throw {@link
 * StorageEngineException} (like a full disk) while {@link #FAILING} is set. Failure injection for
 * the cache's degradation tests.
 */
public final class FlakyBackendProvider implements StorageBackendProvider {
  /** While true, every key-value operation fails. */
  static final AtomicBoolean FAILING = new AtomicBoolean();

  /** Key-value operations attempted while failing. */
  static final AtomicInteger FAILED_CALLS = new AtomicInteger();

  /** Entries handed out by scans of flaky stores (to show that a reader streams). */
  static final java.util.concurrent.atomic.AtomicLong SCANNED =
      new java.util.concurrent.atomic.AtomicLong();

  /**
   * When set, what {@code stats().diskBytes()} of a flaky backend reports, given the stats of the
   * memory backend under it (a simulated footprint on disk); null: the memory backend's -1.
   */
  static volatile java.util.function.ToLongFunction<BackendStats> DISK_BYTES;

  private final MemoryBackendProvider memory = new MemoryBackendProvider();

  @Override
  public String type() {
    return "flaky";
  }

  @Override
  public StorageBackend open(BackendContext context) {
    return new Flaky(memory.open(context));
  }

  /**
   * When set, the next key-value write waits here (after the cache decided the tier is usable) for
   * the latch's release, then fails or not by {@link #FAILING} as it is then: an operation in
   * flight while the tier turns degraded. {@link #PARKED} counts down once it waits.
   */
  static final java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CountDownLatch>
      PARK_NEXT_WRITE = new java.util.concurrent.atomic.AtomicReference<>();

  static volatile java.util.concurrent.CountDownLatch PARKED =
      new java.util.concurrent.CountDownLatch(0);

  /**
   * As {@link #PARK_NEXT_WRITE}, for the next key-value delete (a recovering tier deleting the keys
   * written during its outage).
   */
  static final java.util.concurrent.atomic.AtomicReference<java.util.concurrent.CountDownLatch>
      PARK_NEXT_DELETE = new java.util.concurrent.atomic.AtomicReference<>();

  /** Keys (UTF-8) of key-value deletes that reached a flaky store without failing. */
  static final java.util.Queue<String> DELETED = new java.util.concurrent.ConcurrentLinkedQueue<>();

  /**
   * When set and not yet open, every key-value operation (and transaction) of a flaky backend waits
   * for this latch before it runs: a backend that stops answering (a hung server, a stalled disk).
   * Each operation that waits counts {@link #HUNG_CALLS} up and {@link #HUNG_REACHED} down.
   */
  static volatile java.util.concurrent.CountDownLatch HANG;

  static final AtomicInteger HUNG_CALLS = new AtomicInteger();

  static volatile java.util.concurrent.CountDownLatch HUNG_REACHED =
      new java.util.concurrent.CountDownLatch(0);

  private static void check(String what) {
    java.util.concurrent.CountDownLatch hang = HANG;
    if (hang != null && hang.getCount() > 0) {
      HUNG_CALLS.incrementAndGet();
      HUNG_REACHED.countDown();
      try {
        hang.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    java.util.concurrent.CountDownLatch release =
        what.startsWith("put")
            ? PARK_NEXT_WRITE.getAndSet(null)
            : what.equals("delete") ? PARK_NEXT_DELETE.getAndSet(null) : null;
    if (release != null) {
      PARKED.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (FAILING.get()) {
      FAILED_CALLS.incrementAndGet();
      throw new StorageEngineException(
          "flaky backend: " + what + " failed (injected: no space left on device)", null);
    }
  }

  private record Flaky(StorageBackend d) implements StorageBackend {
    @Override
    public String name() {
      return d.name();
    }

    @Override
    public String type() {
      return "flaky";
    }

    @Override
    public Durability durability() {
      return d.durability();
    }

    @Override
    public Set<Capability> capabilities() {
      return d.capabilities();
    }

    @Override
    public KeyValueStore keyValue(String namespace) {
      return new FlakyKv(d.keyValue(namespace));
    }

    @Override
    public LogStore log(String name) {
      return d.log(name);
    }

    @Override
    public SnapshotStore snapshots(String name) {
      return d.snapshots(name);
    }

    @Override
    public <T> T inTransaction(Transaction.Work<T> work) {
      check("transaction");
      return d.inTransaction(work);
    }

    @Override
    public SortedSet<StoreId> stores() {
      return d.stores();
    }

    @Override
    public BackendStats stats() {
      BackendStats s = d.stats();
      java.util.function.ToLongFunction<BackendStats> disk = DISK_BYTES;
      return disk == null
          ? s
          : new BackendStats(
              s.backend(), s.type(), s.stores(), disk.applyAsLong(s), s.properties());
    }

    @Override
    public VerifyReport verify(Progress progress) {
      return d.verify(progress);
    }

    @Override
    public void compact(Progress progress) {
      d.compact(progress);
    }

    @Override
    public void close() {
      d.close();
    }
  }

  private record FlakyKv(KeyValueStore d) implements KeyValueStore {
    @Override
    public String name() {
      return d.name();
    }

    @Override
    public Optional<Entry> getEntry(byte[] key) {
      check("get");
      return d.getEntry(key);
    }

    @Override
    public long put(byte[] key, byte[] value) {
      check("put");
      return d.put(key, value);
    }

    @Override
    public long put(byte[] key, byte[] value, Duration ttl) {
      check("put");
      return d.put(key, value, ttl);
    }

    @Override
    public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
      check("compareAndSet");
      return d.compareAndSet(key, expectedVersion, value, ttl);
    }

    @Override
    public boolean delete(byte[] key) {
      check("delete");
      DELETED.add(new String(key, java.nio.charset.StandardCharsets.UTF_8));
      return d.delete(key);
    }

    @Override
    public void compareAndDelete(byte[] key, long expectedVersion) {
      check("compareAndDelete");
      d.compareAndDelete(key, expectedVersion);
    }

    @Override
    public void putAll(Collection<KeyValue> entries) {
      check("putAll");
      d.putAll(entries);
    }

    @Override
    public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
      check("scan");
      CloseableIterator<Entry> it = d.scan(fromInclusive, toExclusive);
      return new CloseableIterator<>() {
        @Override
        public boolean hasNext() {
          return it.hasNext();
        }

        @Override
        public Entry next() {
          SCANNED.incrementAndGet();
          return it.next();
        }

        @Override
        public void close() {
          it.close();
        }
      };
    }

    @Override
    public long purgeExpired() {
      check("purgeExpired");
      return d.purgeExpired();
    }

    @Override
    public long approximateCount() {
      check("approximateCount");
      return d.approximateCount();
    }
  }
}
