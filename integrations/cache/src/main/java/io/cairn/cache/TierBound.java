package io.cairn.cache;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The size bound of one persistent tier: an in-memory index of the tier's keys with each entry's
 * stored size, and CLOCK ("second chance") eviction, which approximates least-recently-used without
 * writing anything on a read.
 *
 * <p>Every key of the tier sits once on a circular list with a reference bit. A read that the tier
 * answers sets the bit (a plain memory write: nothing is written to the store per read); so does an
 * L1 eviction of the key (a key hot in L1 is not read from the tier, but must not look cold to it).
 * A write appends the key behind the hand with its bit clear (a fresh entry gets no second chance
 * until it is read) and, while the tier holds more than {@code maxEntries} entries or {@code
 * maxBytes} bytes (key + stored value), the hand moves: a set bit is cleared and skipped, a clear
 * bit marks the victim, which the caller deletes from the store. Like LRU, a key read since the
 * hand last passed survives; unlike LRU, among keys not read since, the order is the order of
 * writing.
 *
 * <p>The index lives in memory (about 100 bytes plus the key per entry) and is rebuilt by a scan of
 * the namespace when the cache opens (the scan streams; nothing else is held). Recency is not
 * persisted: after a restart every entry starts with its bit clear, in key order. Entry and byte
 * counts are exact for writes made through this cache; entries that expire in the store stay
 * counted until they are read (a miss removes them), evicted, or purged ({@code purgeExpired}).
 *
 * <p>The byte total evicted down to is the {@link #budget()}: {@code maxBytes}, or less when the
 * tier measures its files on disk and finds the engine's overhead on top of the data would pass
 * {@code maxBytes} ({@code StoreTier}, "Bound on disk").
 *
 * <p>Thread-safe: reads ({@link #touch}) take no lock; writes, removals and the hand hold this
 * object's monitor.
 */
final class TierBound {
  /**
   * One indexed key. {@code ref} is written racily on reads: a lost set is a lost second chance.
   */
  static final class Node {
    final byte[] key;
    final int hash;
    long size;
    volatile boolean ref;
    Node prev;
    Node next;

    Node(byte[] key, int hash, long size) {
      this.key = key;
      this.hash = hash;
      this.size = size;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Node n && Arrays.equals(key, n.key);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  private final long maxEntries; // 0: unbounded
  private final long maxBytes; // 0: unbounded
  // The byte total the hand evicts down to: maxBytes, or less when the tier's files on disk
  // (engine overhead included) would otherwise exceed maxBytes (see StoreTier's disk check).
  private volatile long budget;
  private final ConcurrentHashMap<Node, Node> index = new ConcurrentHashMap<>();
  private Node hand; // guarded by this; null when empty
  private long entries; // guarded by this
  private long bytes; // guarded by this
  private volatile long entriesSeen;
  private volatile long bytesSeen;

  TierBound(long maxEntries, long maxBytes) {
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
    this.budget = maxBytes;
  }

  private static Node probe(byte[] key) {
    return new Node(key, Arrays.hashCode(key), 0);
  }

  /** Records a read of {@code key} the tier answered (no lock, no store write). */
  void touch(byte[] key) {
    Node n = node(key);
    if (n != null) {
      touch(n);
    }
  }

  /** Records a read of the key of {@code n}, a node {@link #node} returned. */
  static void touch(Node n) {
    if (!n.ref) {
      n.ref = true;
    }
  }

  /** The index's node of {@code key}; null if the index does not hold it (no lock). */
  Node node(byte[] key) {
    return index.get(probe(key));
  }

  /**
   * Records that {@code key} now holds {@code size} bytes (key + stored value) and returns the keys
   * to evict to stay within the bound (never {@code key} itself), already removed from the index.
   */
  synchronized List<byte[]> written(byte[] key, long size) {
    Node probe = probe(key);
    Node n = index.get(probe);
    if (n != null) {
      bytes += size - n.size;
      n.size = size;
    } else {
      n = new Node(key.clone(), probe.hash, size);
      index.put(n, n);
      link(n);
      entries++;
      bytes += size;
    }
    List<byte[]> victims = List.of();
    while (over() && entries > 1) {
      Node v = advance(n);
      if (victims.isEmpty()) {
        victims = new ArrayList<>(2);
      }
      unlinkAndDrop(v);
      victims.add(v.key);
    }
    publish();
    return victims;
  }

  /** Records that {@code key} is no longer in the tier (deleted, expired, dropped). */
  synchronized void removed(byte[] key) {
    Node n = index.get(probe(key));
    if (n != null) {
      unlinkAndDrop(n);
      publish();
    }
  }

  /** Forgets every key (the namespace was cleared). */
  synchronized void clear() {
    index.clear();
    hand = null;
    entries = 0;
    bytes = 0;
    publish();
  }

  long entries() {
    return entriesSeen;
  }

  long bytes() {
    return bytesSeen;
  }

  long maxEntries() {
    return maxEntries;
  }

  long maxBytes() {
    return maxBytes;
  }

  /** The byte total evicted down to (maxBytes unless lowered by {@link #budget(long)}). */
  long budget() {
    return budget;
  }

  /**
   * Sets the byte total to evict down to ({@code maxBytes / 64} to {@code maxBytes}) and returns
   * the keys to evict now to get there, already removed from the index. No-op without a byte bound.
   */
  synchronized List<byte[]> budget(long bytesWanted) {
    if (maxBytes <= 0) {
      return List.of();
    }
    budget = Math.max(Math.max(1, maxBytes / 64), Math.min(maxBytes, bytesWanted));
    List<byte[]> victims = new ArrayList<>();
    while (over() && entries > 0) {
      Node v = advance(null);
      unlinkAndDrop(v);
      victims.add(v.key);
    }
    publish();
    return victims;
  }

  private boolean over() {
    return (maxEntries > 0 && entries > maxEntries) || (maxBytes > 0 && bytes > budget);
  }

  /** Moves the hand to the next victim: the first node with a clear bit, never {@code keep}. */
  private Node advance(Node keep) {
    while (true) {
      Node c = hand;
      hand = c.next;
      if (c == keep) {
        continue;
      }
      if (c.ref) {
        c.ref = false;
        continue;
      }
      return c;
    }
  }

  /** Inserts {@code n} just behind the hand (the position the hand reaches last). */
  private void link(Node n) {
    if (hand == null) {
      n.prev = n;
      n.next = n;
      hand = n;
      return;
    }
    Node tail = hand.prev;
    n.prev = tail;
    n.next = hand;
    tail.next = n;
    hand.prev = n;
  }

  private void unlinkAndDrop(Node n) {
    index.remove(n);
    entries--;
    bytes -= n.size;
    if (n.next == n) {
      hand = null;
    } else {
      n.prev.next = n.next;
      n.next.prev = n.prev;
      if (hand == n) {
        hand = n.next;
      }
    }
    n.prev = null;
    n.next = null;
  }

  private void publish() {
    entriesSeen = entries;
    bytesSeen = bytes;
  }
}
