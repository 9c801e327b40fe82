package io.cairn.backend.rocksdb;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.VersionConflictException;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.Sealer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * A key-value namespace: keys {@code sid + key} in column family {@code kv} (see {@link Layout}).
 *
 * <h2>Versions under concurrency</h2>
 *
 * Versions come from one backend-wide sequence ({@link RocksDbBackend#nextVersion()}, reserved in
 * persisted blocks, see {@link Layout}), as the {@link KeyValueStore} contract allows: they are
 * positive and strictly increasing per key, across restarts, but neither consecutive nor starting
 * at 1. A plain put therefore needs no read before writing. Every write holds the key's stripe of
 * the backend's striped locks (and the backend's transaction lock shared) from taking its version
 * to committing, so one key's versions increase in commit order; compare-and-set and delete read
 * the current entry under that same lock, so they are atomic. Writers of different keys run in
 * parallel, which lets RocksDB group their WAL syncs under {@code durability = full}. Reads take no
 * per-key lock (only the backend's close guard): a RocksDB read sees one consistent state on its
 * own.
 *
 * <h2>TTL</h2>
 *
 * The expiry instant is stored in the entry, and every read, scan and compare-and-set treats an
 * entry with {@code now >= expiresAt} as absent, so expiry is visible at once. Physical removal is
 * done by a sweeper over the expiry index (column family {@code kv-expiry}, keyed by {@code sid,
 * expiresAt, key}): a range scan up to {@code now} finds exactly the expired entries without
 * touching live ones, in batches of {@code sweeper-batch}, each entry removed under its stripe lock
 * only if its stored expiry still matches. RocksDB's compaction filters were rejected: a
 * Java-implemented filter is not supported by rocksdbjni (only the built-in native ones are), the
 * built-in TTL support ({@code TtlDB}) has one TTL per database rather than per entry, and
 * compaction timing is unpredictable, so expired data could linger indefinitely in cold levels.
 */
final class RocksKvStore implements KeyValueStore {
  private static final long ANY = -1;
  private static final int SCAN_BATCH = 64;
  private static final long SCAN_BATCH_BYTES = 1L << 20;

  /** {@link #approximateCount()} is exact up to this many entries, estimated above. */
  static final int EXACT_COUNT_LIMIT = 100_000;

  final RocksDbBackend b;
  final String name;
  final int sid;
  private final Sealer sealer;

  RocksKvStore(RocksDbBackend b, String name, int sid) {
    this.b = b;
    this.name = name;
    this.sid = sid;
    this.sealer = Sealer.of(b.name(), b.encryption);
  }

  @Override
  public String name() {
    return name;
  }

  String where(byte[] key) {
    return "kv:" + name + " key " + Bytes.toDisplay(key);
  }

  @Override
  public Optional<Entry> getEntry(byte[] key) {
    ArgumentChecks.checkKey(key);
    byte[] k = Layout.kvKey(sid, key);
    byte[] stored = read(key, k);
    return decode(key, stored, b.clock.millis());
  }

  /** Reads the stored entry inside the guard; the message is built only on failure. */
  private byte[] read(byte[] key, byte[] k) {
    b.enter();
    try {
      return b.db.get(b.kvCf, b.readOptions, k);
    } catch (RocksDBException e) {
      throw b.failure(e, "get", where(key));
    } finally {
      b.exit();
    }
  }

  /** The live value: like {@link #getEntry} without building an entry. */
  @Override
  public byte[] get(byte[] key) {
    ArgumentChecks.checkKey(key);
    byte[] k = Layout.kvKey(sid, key);
    byte[] stored = read(key, k);
    if (stored == null) {
      return null;
    }
    long exp = Layout.kvExpiresAt(stored);
    if (exp != 0 && b.clock.millis() >= exp) {
      return null;
    }
    return sealer.openValue(name, key, Layout.kvPayload(stored));
  }

  /** The live entry in {@code stored}, or empty if absent or expired at {@code now}. */
  Optional<Entry> decode(byte[] key, byte[] stored, long now) {
    if (stored == null) {
      return Optional.empty();
    }
    long exp = Layout.kvExpiresAt(stored);
    if (exp != 0 && now >= exp) {
      return Optional.empty();
    }
    return Optional.of(
        new Entry(
            key.clone(),
            sealer.openValue(name, key, Layout.kvPayload(stored)),
            Layout.kvVersion(stored),
            exp));
  }

  @Override
  public long put(byte[] key, byte[] value) {
    ArgumentChecks.checkKey(key);
    ArgumentChecks.checkValue(value);
    b.enter();
    try {
      // A plain put without expiry: what apply() does for it (a version from the sequence, one
      // entry written, nothing read), without buffering the single write or reading the clock.
      // The stored key and value (sealed, version 0) are built before the locks, so the key's
      // stripe is held only for taking the version and RocksDB's write: with more writers than
      // cores, a writer descheduled while it holds a stripe stalls every writer of that stripe.
      byte[] k = Layout.kvKey(sid, key);
      byte[] stored = stored(key, 0, 0, value);
      b.txLock.lockShared();
      ReentrantLock stripe = b.stripe(sid, key);
      stripe.lock();
      try {
        long v = b.nextVersion();
        Layout.putLong(stored, 0, v);
        b.db.put(b.kvCf, b.writeOptions(), k, stored);
        return v;
      } catch (RocksDBException e) {
        throw b.failure(e, "put", where(key));
      } finally {
        stripe.unlock();
        b.txLock.unlockShared();
      }
    } finally {
      b.exit();
    }
  }

  @Override
  public long put(byte[] key, byte[] value, Duration ttl) {
    ArgumentChecks.checkTtl(ttl, false);
    return write("put", key, ANY, value, ttl, false);
  }

  @Override
  public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
    ArgumentChecks.checkTtl(ttl, true);
    checkExpected(expectedVersion);
    return write("compareAndSet", key, expectedVersion, value, ttl, false);
  }

  @Override
  public boolean delete(byte[] key) {
    return write("delete", key, ANY, null, null, true) > 0;
  }

  @Override
  public void compareAndDelete(byte[] key, long expectedVersion) {
    checkExpected(expectedVersion);
    write("compareAndDelete", key, expectedVersion, null, null, true);
  }

  static void checkExpected(long expectedVersion) {
    if (expectedVersion < 0) {
      throw new IllegalArgumentException(
          "expectedVersion must be 0 (absent) or a version >= 1, got " + expectedVersion);
    }
  }

  private long write(
      String op, byte[] key, long expected, byte[] value, Duration ttl, boolean delete) {
    ArgumentChecks.checkKey(key);
    if (!delete) {
      ArgumentChecks.checkValue(value);
    }
    b.enter();
    try {
      b.txLock.lockShared();
      ReentrantLock stripe = b.stripe(sid, key);
      stripe.lock();
      try {
        KvAccess.Direct access = new KvAccess.Direct(b);
        long now = b.clock.millis();
        long v =
            apply(
                access,
                key,
                expected,
                delete ? null : value,
                delete ? 0 : ArgumentChecks.expiryMillis(now, ttl),
                now);
        access.commit();
        return v;
      } catch (RocksDBException e) {
        throw b.failure(e, op, where(key));
      } finally {
        stripe.unlock();
        b.txLock.unlockShared();
      }
    } finally {
      b.exit();
    }
  }

  /**
   * The one write path of an entry, shared by direct writes and transactions. A plain write ({@code
   * expected == ANY}) is blind; compare-and-set and deletes read the current entry first. With
   * {@code value == null} deletes and returns the live version removed (0 if none); otherwise
   * writes and returns the new version. {@code expected == ANY} skips the version check; a mismatch
   * throws {@link VersionConflictException} before anything is written. Deleting with an expected
   * version requires a live entry: expecting 0 of an absent key is a conflict, as there is nothing
   * to delete.
   */
  long apply(KvAccess a, byte[] key, long expected, byte[] value, long expiresAt, long now)
      throws RocksDBException {
    byte[] k = Layout.kvKey(sid, key);
    if (expected == ANY && value != null) {
      // Blind write: the version comes from the backend-wide sequence, so the replaced entry need
      // not be read. Its expiry-index entry, if any, is left for the sweeper, which deletes index
      // entries that no longer match their entry.
      long v = b.nextVersion();
      a.put(b.kvCf, k, stored(key, v, expiresAt, value));
      if (expiresAt != 0) {
        a.put(b.expiryCf, Layout.expiryKey(sid, expiresAt, key), new byte[0]);
      }
      return v;
    }
    byte[] old = a.getHeader(b.kvCf, k);
    long oldVersion = 0;
    long oldExp = 0;
    if (old != null) {
      oldExp = Layout.kvExpiresAt(old);
      oldVersion = (oldExp != 0 && now >= oldExp) ? 0 : Layout.kvVersion(old);
    }
    if (expected != ANY && (expected != oldVersion || (value == null && oldVersion == 0))) {
      throw new VersionConflictException(b.describe + ", " + where(key), expected, oldVersion);
    }
    if (oldExp != 0 && (value == null || oldExp != expiresAt)) {
      a.delete(b.expiryCf, Layout.expiryKey(sid, oldExp, key));
    }
    if (value == null) {
      if (old != null) {
        a.delete(b.kvCf, k);
      }
      return oldVersion;
    }
    long v = b.nextVersion();
    a.put(b.kvCf, k, stored(key, v, expiresAt, value));
    if (expiresAt != 0 && expiresAt != oldExp) {
      a.put(b.expiryCf, Layout.expiryKey(sid, expiresAt, key), new byte[0]);
    }
    return v;
  }

  /** The stored value of {@code key}: version, expiry and the value sealed for this store. */
  private byte[] stored(byte[] key, long version, long expiresAt, byte[] value) {
    // Without encryption the value goes in as given: kvValue copies it (no defensive clone first).
    return Layout.kvValue(
        version, expiresAt, sealer.enabled() ? sealer.sealValue(name, key, value) : value);
  }

  /**
   * Adds imported entry {@code e} to {@code batch} exactly as a write of this store stores it, with
   * its own version and expiry ({@link RocksImporter}): the entry and, with an expiry, its
   * expiry-index entry (so the sweeper removes it once expired, as any other).
   */
  void putImported(WriteBatch batch, Entry e) throws RocksDBException {
    byte[] key = e.key();
    batch.put(
        b.kvCf, Layout.kvKey(sid, key), stored(key, e.version(), e.expiresAtMillis(), e.value()));
    if (e.expiresAtMillis() != 0) {
      batch.put(b.expiryCf, Layout.expiryKey(sid, e.expiresAtMillis(), key), new byte[0]);
    }
  }

  @Override
  public void putAll(Collection<KeyValue> entries) {
    Objects.requireNonNull(entries, "entries");
    List<byte[]> keys = new ArrayList<>(entries.size());
    for (KeyValue kv : entries) {
      Objects.requireNonNull(kv, "entry");
      ArgumentChecks.checkKey(kv.key());
      ArgumentChecks.checkValue(kv.value());
      keys.add(kv.key());
    }
    if (keys.isEmpty()) {
      return;
    }
    b.enter();
    try {
      b.txLock.lockShared();
      List<ReentrantLock> locks = b.lockStripes(sid, keys);
      try {
        // Later duplicates win: apply in order, each reading committed state; the batch keeps
        // the last write per key.
        KvAccess.Direct access = new KvAccess.Direct(b);
        long now = b.clock.millis();
        for (KeyValue kv : entries) {
          apply(access, kv.key(), ANY, kv.value(), 0, now);
        }
        access.commit();
      } catch (RocksDBException e) {
        throw b.failure(e, "putAll", "kv:" + name + " (" + keys.size() + " entries)");
      } finally {
        RocksDbBackend.unlockAll(locks);
        b.txLock.unlockShared();
      }
    } finally {
      b.exit();
    }
  }

  @Override
  public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
    byte[] lower = fromInclusive == null ? Layout.sidPrefix(sid) : Layout.kvKey(sid, fromInclusive);
    byte[] upper = toExclusive == null ? Layout.sidEnd(sid) : Layout.kvKey(sid, toExclusive);
    return new ScanIterator(this, lower, upper, SCAN_BATCH, SCAN_BATCH_BYTES, null, -1);
  }

  /**
   * A scan of a read transaction's snapshot ({@code readOptions}), expiry judged at {@code now}.
   */
  ScanIterator scan(
      byte[] fromInclusive, byte[] toExclusive, org.rocksdb.ReadOptions readOptions, long now) {
    byte[] lower = fromInclusive == null ? Layout.sidPrefix(sid) : Layout.kvKey(sid, fromInclusive);
    byte[] upper = toExclusive == null ? Layout.sidEnd(sid) : Layout.kvKey(sid, toExclusive);
    return new ScanIterator(this, lower, upper, SCAN_BATCH, SCAN_BATCH_BYTES, readOptions, now);
  }

  @Override
  public long purgeExpired() {
    long removed = 0;
    String where = "kv:" + name;
    while (true) {
      long now = b.clock.millis();
      List<byte[]> expired = new ArrayList<>();
      int batch = b.config.sweeperBatch();
      b.forEach(
          "purgeExpired",
          where,
          b.expiryCf,
          Layout.sidPrefix(sid),
          Layout.expiryUpTo(sid, now),
          (k, v) -> {
            expired.add(k);
            return expired.size() < batch;
          });
      for (byte[] ek : expired) {
        removed += purgeOne(ek);
      }
      if (expired.size() < batch) {
        return removed;
      }
    }
  }

  /** Removes one expiry-index entry and, if it still describes the entry, the entry itself. */
  private int purgeOne(byte[] expiryKey) {
    byte[] key = Layout.expiryUserKey(expiryKey);
    long exp = Layout.expiryAt(expiryKey);
    b.enter();
    try {
      b.txLock.lockShared();
      ReentrantLock stripe = b.stripe(sid, key);
      stripe.lock();
      try {
        KvAccess.Direct access = new KvAccess.Direct(b);
        byte[] k = Layout.kvKey(sid, key);
        byte[] stored = access.getHeader(b.kvCf, k);
        int removed = 0;
        if (stored != null && Layout.kvExpiresAt(stored) == exp && b.clock.millis() >= exp) {
          access.delete(b.kvCf, k);
          removed = 1;
        }
        access.delete(b.expiryCf, expiryKey);
        access.commit();
        return removed;
      } catch (RocksDBException e) {
        throw b.failure(e, "purgeExpired", where(key));
      } finally {
        stripe.unlock();
        b.txLock.unlockShared();
      }
    } finally {
      b.exit();
    }
  }

  /** Exact count of live entries: a key scan of the namespace (cost grows with its size). */
  @Override
  public long approximateCount() {
    return approximateCount(EXACT_COUNT_LIMIT);
  }

  /**
   * Counts live entries exactly while there are at most {@code exactLimit} entries; beyond that,
   * scales the count over the first {@code exactLimit} keys by how much of the namespace's
   * approximate size (RocksDB's estimate over files and memtables) those keys cover. The metrics
   * gauge calls this every few seconds, so its cost must not grow with the store.
   */
  long approximateCount(int exactLimit) {
    long now = b.clock.millis();
    long[] visited = {0};
    long[] live = {0};
    byte[][] last = {null};
    byte[] from = Layout.sidPrefix(sid);
    byte[] to = Layout.sidEnd(sid);
    b.forEach(
        "approximateCount",
        "kv:" + name,
        b.kvCf,
        from,
        to,
        (k, v) -> {
          long exp = Layout.kvExpiresAt(v);
          if (exp == 0 || now < exp) {
            live[0]++;
          }
          if (++visited[0] >= exactLimit) {
            last[0] = k;
            return false;
          }
          return true;
        });
    if (last[0] == null) {
      return live[0];
    }
    // the smallest key after the last one counted: itself plus a zero byte
    byte[] afterLast = java.util.Arrays.copyOf(last[0], last[0].length + 1);
    long scanned = b.approximateBytes(b.kvCf, from, afterLast);
    long whole = b.approximateBytes(b.kvCf, from, to);
    if (scanned <= 0 || whole <= scanned) {
      return live[0]; // no usable estimate: at least what was counted
    }
    return Math.round(live[0] * ((double) whole / scanned));
  }

  /** Opens a native iterator positioned at {@code lower}; the caller is inside the guard. */
  RocksIterator newIterator(byte[] lower, org.rocksdb.ReadOptions readOptions) {
    RocksIterator it = b.db.newIterator(b.kvCf, readOptions == null ? b.readOptions : readOptions);
    it.seek(lower);
    return it;
  }
}
