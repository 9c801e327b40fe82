package io.cairn.backend.memory;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.StorageEngine;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongFunction;

/**
 * The memory backend's engine: one {@link ConcurrentSkipListMap} per store, ordered by {@link
 * Bytes#UNSIGNED}, from each key to a chain of versions of its value. Everything else (the base's
 * versions, TTL, offsets, snapshot sets, transactions, sealing) is {@link
 * io.cairn.persistence.spi.EngineBackend}'s. Durability is {@link Durability#NONE} whatever is
 * asked: nothing is written anywhere, and {@link #close()} drops everything. Arrays are copied in
 * and out, so neither side can change the other's. No read and no write takes a lock: readers never
 * park, and writers of different keys wait for each other only in the in-order publication below
 * (an earlier batch's last few map operations). This engine therefore {@link #concurrentWrites()
 * opts in} to the base's concurrent writes (unless built with {@code false}, for comparison: {@code
 * concurrent-writes = false}).
 *
 * <h2>Visibility: a batch is seen whole</h2>
 *
 * Every {@link #write} takes the next sequence number {@code s}, installs each of its records as a
 * new head version of its key tagged {@code s} (a delete installs a tombstone, a version without a
 * value; deleting a key that is absent installs nothing), then publishes: it waits until {@link
 * #published} is {@code s - 1} and sets it to {@code s}. Publication is in sequence order, so
 * {@code published = p} means every batch numbered {@code <= p} is wholly installed. A read takes
 * {@code r = published} once and uses, for each key, the newest version tagged {@code <= r} (none,
 * or a tombstone: the key is absent). It therefore sees every batch up to {@code r} whole and
 * nothing of a later one, on every key and store it reads; a write returns only once published, so
 * a read that starts after it returned sees it. The base never writes one key in two batches in
 * flight (its per-key write order), so each key's chain has one writer at a time and installing
 * needs no lock; two records of one key in one batch replace each other (the later wins).
 *
 * <h2>Pruning: when old versions and tombstones go</h2>
 *
 * A version is needed by readers whose {@code r} lies from its tag up to (excluded) the tag of the
 * next newer version of its key. Snapshots and pinned reads hold their {@code r} in {@link #pins};
 * plain reads ({@link #get}, {@link #range}, {@link #stores()}) hold nothing. Every version
 * installed over an older one, and every tombstone, is queued. After each batch one writer at a
 * time (the others skip) takes queued versions {@code v} in order while {@code v}'s tag is {@code
 * <= b = published - LAG} and no pin is below it, and cuts the chain below {@code v} (no reader at
 * or above {@code v}'s tag needs anything older), removing the key when {@code v} is a tombstone
 * still at the head. Before cutting it raises {@link #reclaimed} to {@code v}'s tag. A plain read
 * checks {@link #reclaimed} after reading: if it is above the read's {@code r}, something the read
 * needed may have gone (it overlapped {@link #LAG} or more publications), so it reads again at the
 * newer {@code r}; after {@link #OPTIMISTIC_TRIES} tries it pins its {@code r} like a snapshot.
 * While a pin is open nothing tagged above it is cut: versions queue up until it closes (then the
 * cleaner catches up, taking more per batch than a batch queues).
 *
 * <p>A pin is taken in two steps: first {@link Long#MIN_VALUE} (nothing is cut), then {@code r}
 * read from {@link #published}, replacing it. The cleaner reads {@code published} before the pins:
 * if it missed a pin being taken, that pin's {@code r} was read after the cleaner's, so it is at or
 * above the cleaner's bound and needs nothing the cleaner cuts.
 *
 * <h2>Snapshots</h2>
 *
 * {@link #snapshot()} pins the last published batch: O(open pins) under a small monitor, nothing
 * copied; no writer waits for it, nor it for a batch being installed (it reads at the last
 * published one). Its reads take no lock and never retry. Closing it unpins.
 */
final class MemoryEngine implements StorageEngine {
  /** Publications a plain read may overlap before its versions may be cut (the class comment). */
  static final long LAG = 64;

  /** Plain read attempts before a read pins its sequence number. */
  static final int OPTIMISTIC_TRIES = 3;

  /** One version of a key's value; {@code value} null: a tombstone. */
  private static final class Version {
    final byte[] value;
    final long seq;
    volatile Version older; // set to null by the cleaner only (the class comment)

    Version(byte[] value, long seq, Version older) {
      this.value = value;
      this.seq = seq;
      this.older = older;
    }
  }

  /**
   * A version that removed its key for every reader, put in place of a cleaned tombstone just
   * before its slot leaves the map (a writer finding it puts a new slot).
   */
  private static final Version DEAD = new Version(null, Long.MIN_VALUE, null);

  /**
   * A key's place in its store's map, kept while the key exists, so that a write finds the chain in
   * one traversal of the map (a put's {@code putIfAbsent} returns the slot already there).
   */
  private static final class Slot {
    private static final VarHandle HEAD;

    static {
      try {
        HEAD = MethodHandles.lookup().findVarHandle(Slot.class, "head", Version.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    volatile Version head;

    Slot(Version head) {
      this.head = head;
    }

    /**
     * Replaces the head; fails only when the cleaner just marked a tombstone head {@link #DEAD}.
     */
    boolean replace(Version expected, Version next) {
      return HEAD.compareAndSet(this, expected, next);
    }
  }

  /** A version waiting for the cleaner: the chain below it goes, and the key if a tombstone. */
  private record Queued(
      ConcurrentSkipListMap<byte[], Slot> map, byte[] key, Slot slot, Version v) {}

  private final Map<StoreId, ConcurrentSkipListMap<byte[], Slot>> stores =
      new ConcurrentHashMap<>();

  /** The last sequence number taken by a write. */
  private final AtomicLong next = new AtomicLong();

  /** Every batch numbered up to this is installed; advanced in sequence order. */
  private volatile long published;

  /** Versions below this tag may have been cut: a plain read at a lower r reads again. */
  private volatile long reclaimed;

  /** Sequence numbers of open snapshots and pinned reads, sorted; replaced whole under pinLock. */
  private volatile long[] pins = new long[0];

  private final Object pinLock = new Object();
  private final ConcurrentLinkedQueue<Queued> queued = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean cleaning = new AtomicBoolean();
  private final boolean concurrentWrites;
  private final int optimisticTries;

  /** An engine that accepts concurrent writes. */
  MemoryEngine() {
    this(true);
  }

  /**
   * @param concurrentWrites whether the base may call {@link #write} from several threads at once
   *     ({@code false}: one write at a time, as before engines could opt in)
   */
  MemoryEngine(boolean concurrentWrites) {
    this(concurrentWrites, OPTIMISTIC_TRIES);
  }

  /**
   * @param optimisticTries plain read attempts before a read pins ({@code 0}: every read pins, so a
   *     test exercises the pinned path on every read instead of only when the cleaner overtakes)
   */
  MemoryEngine(boolean concurrentWrites, int optimisticTries) {
    this.concurrentWrites = concurrentWrites;
    this.optimisticTries = optimisticTries;
  }

  @Override
  public boolean concurrentWrites() {
    return concurrentWrites;
  }

  /**
   * Test hook: called after each record of a batch has been installed, before the batch is
   * published, with the step's name, so a test can start readers in the middle of a batch.
   * Package-private and null outside tests.
   */
  volatile Consumer<String> writeStepHook;

  /** Runs {@code read} at the last published batch; again if the cleaner overtook it. */
  private <T> T read(LongFunction<T> read) {
    for (int i = 0; i < optimisticTries; i++) {
      long r = published;
      T out = read.apply(r);
      if (reclaimed <= r) {
        return out;
      }
    }
    long r = pin(); // a slow read beside many writes: keep what it needs
    try {
      return read.apply(r);
    } finally {
      unpin(r);
    }
  }

  /** The newest version of a chain tagged at most {@code r}: null or a tombstone if absent. */
  private static Version visible(Version v, long r) {
    while (v != null && v.seq > r) {
      v = v.older;
    }
    return v;
  }

  private static byte[] valueAt(Map<byte[], Slot> map, byte[] key, long r) {
    if (map == null) {
      return null;
    }
    Slot slot = map.get(key);
    Version v = slot == null ? null : visible(slot.head, r);
    return v == null || v.value == null ? null : v.value.clone();
  }

  @Override
  public byte[] get(StoreId store, byte[] key) {
    ConcurrentSkipListMap<byte[], Slot> map = stores.get(store);
    return map == null ? null : read(r -> valueAt(map, key, r));
  }

  @Override
  public List<Record> range(StoreId store, byte[] fromInclusive, byte[] toExclusive, int limit) {
    ConcurrentSkipListMap<byte[], Slot> map = stores.get(store);
    return map == null ? List.of() : read(r -> range(map, fromInclusive, toExclusive, limit, r));
  }

  private static List<Record> range(
      NavigableMap<byte[], Slot> map, byte[] fromInclusive, byte[] toExclusive, int limit, long r) {
    if (toExclusive != null && Bytes.UNSIGNED.compare(fromInclusive, toExclusive) >= 0) {
      return List.of();
    }
    NavigableMap<byte[], Slot> sub =
        toExclusive == null
            ? map.tailMap(fromInclusive, true)
            : map.subMap(fromInclusive, true, toExclusive, false);
    List<Record> out = new ArrayList<>(Math.min(limit, 256));
    for (Map.Entry<byte[], Slot> e : sub.entrySet()) {
      if (out.size() >= limit) {
        break;
      }
      Version v = visible(e.getValue().head, r);
      if (v != null && v.value != null) {
        out.add(new Record(e.getKey().clone(), v.value.clone()));
      }
    }
    return out;
  }

  @Override
  public void write(List<Write> batch, Durability durability) {
    long seq = next.incrementAndGet();
    try {
      int i = 0;
      for (Write w : batch) {
        install(w, seq);
        Consumer<String> hook = writeStepHook;
        if (hook != null) {
          hook.accept("after write " + ++i + " of " + batch.size() + " of a batch");
        }
      }
    } catch (RuntimeException | Error e) {
      undo(batch, seq); // a write that throws wrote nothing
      throw e;
    } finally {
      // Later batches wait for this number: it is published whatever happened (empty after an
      // undo), or every later writer would wait forever.
      publish(seq);
    }
    clean(batch.size() + 2); // more than this batch queued, so the queue drains
  }

  /**
   * Installs {@code w} as the head version of its key, tagged {@code seq}: one traversal of the map
   * (a delete's lookup, or a put's {@code putIfAbsent}, which returns the key's slot if present).
   */
  private void install(Write w, long seq) {
    ConcurrentSkipListMap<byte[], Slot> map = stores.get(w.store());
    if (w.isDelete()) {
      Slot slot = map == null ? null : map.get(w.key());
      while (slot != null) {
        Version head = slot.head;
        if (head.value == null) {
          return; // absent already (a tombstone, or DEAD)
        }
        Version t = new Version(null, seq, head.seq == seq ? head.older : head);
        if (slot.replace(head, t)) {
          queued.add(new Queued(map, w.key().clone(), slot, t));
          return;
        }
      }
      return;
    }
    if (map == null) {
      map = stores.computeIfAbsent(w.store(), id -> new ConcurrentSkipListMap<>(Bytes.UNSIGNED));
    }
    byte[] value = w.value().clone();
    Slot fresh = null;
    while (true) {
      if (fresh == null) {
        fresh = new Slot(new Version(value, seq, null));
      }
      Slot slot = map.putIfAbsent(w.key().clone(), fresh);
      if (slot == null) {
        return; // a new key: nothing older to clean
      }
      Version head = slot.head;
      if (head == DEAD) {
        map.remove(w.key(), slot); // the cleaner is removing it: help, then put a new slot
        continue;
      }
      Version v = new Version(value, seq, head.seq == seq ? head.older : head); // later write wins
      if (slot.replace(head, v)) {
        if (v.older != null) {
          queued.add(new Queued(map, w.key().clone(), slot, v));
        }
        return;
      }
    }
  }

  /** Removes what a failed batch installed (its versions are still unpublished). */
  private void undo(List<Write> batch, long seq) {
    for (Write w : batch) {
      ConcurrentSkipListMap<byte[], Slot> map = stores.get(w.store());
      Slot slot = map == null ? null : map.get(w.key());
      Version head = slot == null ? null : slot.head;
      if (head != null && head.seq == seq) {
        if (head.older == null) {
          slot.replace(head, DEAD); // a key this batch created
          map.remove(w.key(), slot);
        } else {
          slot.replace(head, head.older);
        }
      }
    }
  }

  /** Waits for every earlier batch to be published, then publishes {@code seq}. */
  private void publish(long seq) {
    int spins = 0;
    while (published != seq - 1) {
      if (++spins < 100) {
        Thread.onSpinWait();
      } else {
        Thread.yield(); // the earlier writer is descheduled mid-batch: let it run
      }
    }
    published = seq;
  }

  /** Cuts up to {@code max} queued chains no reader can need any more (the class comment). */
  private void clean(int max) {
    if (queued.isEmpty() || !cleaning.compareAndSet(false, true)) {
      return; // another writer is cleaning: its batch is no more important than ours
    }
    try {
      long bound = published - LAG; // published before the pins (the class comment)
      long[] pinned = pins;
      long oldestPin = pinned.length == 0 ? Long.MAX_VALUE : pinned[0];
      for (int i = 0; i < max; i++) {
        Queued q = queued.peek();
        if (q == null || q.v.seq > bound || oldestPin < q.v.seq) {
          return; // too recent for plain reads, or an open pin below it may need what is older
        }
        queued.poll(); // only the cleaner removes: this is q
        if (reclaimed < q.v.seq) {
          reclaimed = q.v.seq; // before the cut, so a read that missed something sees it
        }
        q.v.older = null;
        if (q.v.value == null && q.slot.replace(q.v, DEAD)) { // only if still the head
          q.map.remove(q.key, q.slot);
        }
      }
    } finally {
      cleaning.set(false);
    }
  }

  /** How many snapshots and pinned reads are open (tests: a read gives its pin back). */
  int pinsHeld() {
    return pins.length;
  }

  /** Pins the last published batch against cleaning; returns its number. */
  private long pin() {
    synchronized (pinLock) {
      pins = withPin(pins, Long.MIN_VALUE); // nothing is cut while we read published
      long r = published;
      pins = withPin(withoutPin(pins, Long.MIN_VALUE), r);
      return r;
    }
  }

  private void unpin(long r) {
    synchronized (pinLock) {
      pins = withoutPin(pins, r);
    }
  }

  private static long[] withPin(long[] pinned, long r) {
    long[] out = Arrays.copyOf(pinned, pinned.length + 1);
    out[pinned.length] = r;
    Arrays.sort(out);
    return out;
  }

  private static long[] withoutPin(long[] pinned, long r) {
    int i = Arrays.binarySearch(pinned, r);
    if (i < 0) {
      throw new IllegalStateException("memory engine: pin " + r + " is not held (a bug here)");
    }
    long[] out = new long[pinned.length - 1];
    System.arraycopy(pinned, 0, out, 0, i);
    System.arraycopy(pinned, i + 1, out, i, out.length - i);
    return out;
  }

  @Override
  public boolean offersSnapshots() {
    return true;
  }

  /** A pin on the last published batch (see the class comment for the cost and who waits). */
  @Override
  public Snapshot snapshot() {
    return new MemorySnapshot(pin());
  }

  /** One snapshot: reads at its pinned sequence number, whose versions the cleaner keeps. */
  private final class MemorySnapshot implements Snapshot {
    private final long r;
    // Taken once: two closes racing must not both unpin, or the second would remove another
    // snapshot's pin at the same number and let the cleaner cut versions that snapshot reads.
    private final AtomicBoolean closed = new AtomicBoolean();

    MemorySnapshot(long r) {
      this.r = r;
    }

    @Override
    public byte[] get(StoreId store, byte[] key) {
      open();
      return valueAt(stores.get(store), key, r);
    }

    @Override
    public List<Record> range(StoreId store, byte[] fromInclusive, byte[] toExclusive, int limit) {
      open();
      ConcurrentSkipListMap<byte[], Slot> map = stores.get(store);
      return map == null
          ? List.of()
          : MemoryEngine.range(map, fromInclusive, toExclusive, limit, r);
    }

    private void open() {
      if (closed.get()) {
        throw new IllegalStateException(
            "memory engine snapshot used after close: take a new snapshot for further reads");
      }
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        unpin(r);
      }
    }
  }

  @Override
  public SortedSet<StoreId> stores() {
    return read(
        r -> {
          TreeSet<StoreId> out = new TreeSet<>();
          stores.forEach(
              (id, map) -> {
                for (Slot slot : map.values()) {
                  Version v = visible(slot.head, r);
                  if (v != null && v.value != null) {
                    out.add(id); // a store of tombstones only holds no record: not listed
                    return;
                  }
                }
              });
          return Collections.unmodifiableSortedSet(out);
        });
  }

  @Override
  public Map<String, String> properties() {
    return Map.of("storage", "heap");
  }

  @Override
  public void close() {
    stores.clear();
    queued.clear();
  }

  /**
   * The stored (not copied) value of {@code key} in {@code store}. Only for tests that simulate
   * damage in memory (a bit flip) to prove that reads and verify detect it.
   */
  byte[] storedValue(StoreId store, byte[] key) {
    return visible(stores.get(store).get(key).head, published).value;
  }
}
