package io.cairn.persistence.spi;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.VersionConflictException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key-value namespace of every {@link EngineBackend}: argument checks, TTL and expiry, version
 * assignment, framing and sealing over the engine's point reads, pages and batches. Entries are
 * records {@code 'K' | version | expiresAt | sealed value} under the user key; an entry with a TTL
 * also has a record in the namespace's {@link ExpiryIndex}, written in the entry's own batch.
 *
 * <p>Versions come from the backend's {@link VersionSequence}, taken under the key's write stripe.
 * A put ({@code put}, {@code putAll}) therefore writes blindly: it does not read the entry it
 * replaces, so when that entry had a TTL under another expiry, its index record stays behind
 * (stale). {@code purgeExpired} deletes a stale record once its instant passes (the entry no longer
 * expires then) and {@code verify} does not count it as damage. Compare-and-set, compare-and-delete
 * and delete read the stored entry (expired or not) under the stripe, and remove its index record
 * in their batch.
 */
final class BaseKeyValueStore implements KeyValueStore {
  /** {@link #where} as a function, made once: reads pass it instead of a message built per read. */
  private final Function<byte[], String> whereOfKey = this::where;

  private static final Logger LOG = LoggerFactory.getLogger(BaseKeyValueStore.class);

  private static final long PROGRESS_EVERY = 1 << 20; // entries between progress lines of a build

  /** One decoded entry; {@code sealed} is still sealed. */
  record Stored(long version, long expiresAtMillis, byte[] sealed) {
    boolean liveAt(long now) {
      return expiresAtMillis == 0 || now < expiresAtMillis;
    }
  }

  private final EngineBackend b;
  private final String name;
  final StoreId id;
  private final StoreId index;
  private final RecordFrame.Store framed; // id, its checksum prefix encoded once

  BaseKeyValueStore(EngineBackend backend, String name) {
    this.b = backend;
    this.name = name;
    this.id = new StoreId(StoreKind.KEY_VALUE, name);
    this.index = ExpiryIndex.storeOf(name);
    this.framed = RecordFrame.Store.of(id);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Optional<Entry> getEntry(byte[] key) {
    ArgumentChecks.checkKey(key);
    return b.read(() -> Optional.ofNullable(entry(key, live(key))));
  }

  /**
   * {@link #getEntry} without the entry: a plain get builds no {@link Entry}, {@code Optional} or
   * key copy that it would drop at once (the cache tiers and most callers read values only).
   */
  @Override
  public byte[] get(byte[] key) {
    ArgumentChecks.checkKey(key);
    int call = b.enterCall();
    try {
      Stored s = live(key);
      return s == null ? null : b.sealer.openValue(name, key, s.sealed());
    } finally {
      b.exitCall(call);
    }
  }

  @Override
  public long put(byte[] key, byte[] value) {
    return put(key, value, null);
  }

  @Override
  public long put(byte[] key, byte[] value, Duration ttl) {
    return write(key, -1, value, ttl);
  }

  @Override
  public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
    ArgumentChecks.checkExpectedVersion(expectedVersion);
    return write(key, expectedVersion, value, ttl);
  }

  /** {@code expected} -1 = unconditional: a blind put, no read. */
  private long write(byte[] key, long expected, byte[] value, Duration ttl) {
    ArgumentChecks.checkKey(key);
    ArgumentChecks.checkValue(value);
    ArgumentChecks.checkTtl(ttl);
    byte[] k = key.clone();
    // depends on key and value only: outside the stripe. In clear the value is not copied here:
    // putWrite copies it into the record within this call (a transaction's seal copies: it keeps
    // the value until its commit)
    byte[] sealed = b.sealer.enabled() ? seal(k, value) : value;
    Stored written =
        b.writeKey(
            "put to",
            this,
            id,
            k,
            () -> {
              long now = b.now();
              Stored old = null;
              if (expected >= 0) {
                old = stored(k);
                long version = old == null || !old.liveAt(now) ? 0 : old.version();
                if (expected != version) {
                  throw conflict(k, expected, version);
                }
              }
              Stored next =
                  new Stored(b.versions().next(), ArgumentChecks.expiryMillis(now, ttl), sealed);
              if (old == null && next.expiresAtMillis() == 0) {
                b.commit(List.of(putWrite(k, next))); // the common put: one record, no list to grow
              } else {
                List<StorageEngine.Write> batch = new ArrayList<>(3);
                putWrites(k, old, next, batch);
                b.commit(batch);
              }
              return next; // not its version: a boxed Long per put
            });
    return written.version();
  }

  @Override
  public boolean delete(byte[] key) {
    ArgumentChecks.checkKey(key);
    byte[] k = key.clone();
    return b.writeKey(
        "delete from",
        this,
        id,
        k,
        () -> {
          Stored old = stored(k);
          if (old == null) {
            return false;
          }
          List<StorageEngine.Write> batch = new ArrayList<>(2);
          deleteWrites(k, old, batch);
          b.commit(batch);
          return old.liveAt(b.now());
        });
  }

  @Override
  public void compareAndDelete(byte[] key, long expectedVersion) {
    ArgumentChecks.checkKey(key);
    ArgumentChecks.checkExpectedVersion(expectedVersion);
    byte[] k = key.clone();
    b.writeKey(
        "compareAndDelete on",
        this,
        id,
        k,
        () -> {
          Stored old = stored(k);
          long version = old == null || !old.liveAt(b.now()) ? 0 : old.version();
          if (version == 0 || version != expectedVersion) {
            throw conflict(k, expectedVersion, version);
          }
          List<StorageEngine.Write> batch = new ArrayList<>(2);
          deleteWrites(k, old, batch);
          b.commit(batch);
          return null;
        });
  }

  @Override
  public void putAll(Collection<KeyValue> entries) {
    Objects.requireNonNull(entries, "entries");
    List<KeyValue> copies = new ArrayList<>(entries.size());
    for (KeyValue e : entries) {
      ArgumentChecks.checkNotNull(e, "entry");
      ArgumentChecks.checkKey(e.key());
      ArgumentChecks.checkValue(e.value());
      copies.add(new KeyValue(e.key().clone(), e.value()));
    }
    if (copies.isEmpty()) {
      b.read(() -> null); // still a call: throws once closed
      return;
    }
    List<byte[]> keys = new ArrayList<>(copies.size());
    List<byte[]> sealed = new ArrayList<>(copies.size());
    for (KeyValue e : copies) {
      keys.add(e.key());
      sealed.add(seal(e.key(), e.value()));
    }
    b.writeKeys(
        "putAll to",
        this,
        id,
        keys,
        () -> {
          // blind, as put; a key given twice: the later wins (engine rule), with a higher version
          List<StorageEngine.Write> batch = new ArrayList<>(copies.size());
          for (int i = 0; i < copies.size(); i++) {
            byte[] k = copies.get(i).key();
            putWrites(k, null, new Stored(b.versions().next(), 0, sealed.get(i)), batch);
          }
          b.commit(batch);
          return null;
        });
  }

  @Override
  public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
    byte[] from = fromInclusive == null ? new byte[0] : fromInclusive.clone();
    byte[] to = toExclusive == null ? null : toExclusive.clone();
    return b.read(() -> new Scan(b.current, b::now, from, to));
  }

  /**
   * Walks the namespace's {@link ExpiryIndex} from its start up to now in pages of at most {@link
   * EngineBackend#page()} records: reads only the expired entries, never the live ones. Each page
   * holds the write stripes of its keys while it re-reads each entry and deletes it with its index
   * record in one batch, only if the entry still has that expiry and is expired now (an entry
   * rewritten meanwhile is kept); an index record that disagrees with its entry is repaired.
   */
  @Override
  public long purgeExpired() {
    return b.read(
        () -> {
          long removed = 0;
          byte[] from = new byte[0];
          byte[] to = ExpiryIndex.expiredBefore(b.now());
          while (true) {
            List<StorageEngine.Record> page =
                b.engine().range(index, from, to, EngineBackend.page());
            if (page.isEmpty()) {
              return removed;
            }
            List<byte[]> keys = new ArrayList<>(page.size());
            for (StorageEngine.Record r : page) {
              ExpiryIndex.check(b.frame, index, r.key(), r.value(), indexWhere(r.key()));
              keys.add(ExpiryIndex.userKeyOf(r.key()));
            }
            removed += b.writeKeys("purgeExpired of", this, id, keys, () -> purgePage(page, keys));
            if (page.size() < EngineBackend.page()) {
              return removed;
            }
            from = successor(page.get(page.size() - 1).key());
          }
        });
  }

  /** One page of {@link #purgeExpired}; caller holds the stripes of {@code keys}. */
  private long purgePage(List<StorageEngine.Record> page, List<byte[]> keys) {
    long at = b.now();
    long removed = 0;
    List<StorageEngine.Write> batch = new ArrayList<>();
    TreeMap<byte[], Boolean> gone = new TreeMap<>(Bytes.UNSIGNED); // deleted by this batch
    for (int i = 0; i < page.size(); i++) {
      byte[] indexKey = page.get(i).key();
      byte[] k = keys.get(i);
      Stored s = gone.containsKey(k) ? null : stored(k);
      long indexed = ExpiryIndex.expiryOf(indexKey);
      if (s != null && s.expiresAtMillis() == indexed) {
        if (!s.liveAt(at)) {
          deleteWrites(k, s, batch);
          gone.put(k, Boolean.TRUE);
          removed++;
        } // else live by the clock now (it went back): kept, and its record stays
      } else {
        // the entry is gone or has another expiry: repair the index, never touch the entry
        batch.add(new StorageEngine.Write(index, indexKey, null));
        if (s != null && s.expiresAtMillis() != 0) {
          batch.add(indexPut(s.expiresAtMillis(), k));
        }
      }
    }
    b.commit(batch);
    return removed;
  }

  @Override
  public long approximateCount() {
    return b.read(() -> count()[0]);
  }

  @Override
  public String toString() {
    return "key-value namespace '" + name + "' of " + b;
  }

  // ---- shared with the transaction view and the backend ----

  /** {@link #live(EngineReader, byte[], long)}'s instant: the backend's clock, read if needed. */
  private static final long NOW = Long.MIN_VALUE;

  /** The live entry for {@code key}, still sealed, or null. */
  Stored live(byte[] key) {
    return live(b.current, key, NOW);
  }

  /** The stored entry for {@code key}, live or expired, still sealed, or null. */
  Stored stored(byte[] key) {
    byte[] raw = b.engine().get(id, key);
    return raw == null ? null : decode(key, raw);
  }

  /**
   * The entry for {@code key} in {@code reader} live at {@code now} ({@link #NOW}: the backend's
   * clock, read only for an entry that expires, since a read costs about 45 ns on a virtual
   * machine), still sealed, or null.
   */
  Stored live(EngineReader reader, byte[] key, long now) {
    byte[] raw = reader.get(id, key);
    if (raw == null) {
      return null;
    }
    Stored s = decode(key, raw);
    return s.expiresAtMillis() == 0 || s.liveAt(now == NOW ? b.now() : now) ? s : null;
  }

  /**
   * A scan of {@code reader} with expiry judged at {@code now} (a read transaction's snapshot and
   * instant); the same iterator as {@link #scan}, which reads the current state.
   */
  CloseableIterator<Entry> scan(
      EngineReader reader, long now, byte[] fromInclusive, byte[] toExclusive) {
    byte[] from = fromInclusive == null ? new byte[0] : fromInclusive.clone();
    byte[] to = toExclusive == null ? null : toExclusive.clone();
    return b.read(() -> new Scan(reader, () -> now, from, to));
  }

  /** The entry as returned to callers (opened), or null. */
  Entry entry(byte[] key, Stored s) {
    if (s == null) {
      return null;
    }
    return new Entry(
        key.clone(), b.sealer.openValue(name, key, s.sealed()), s.version(), s.expiresAtMillis());
  }

  byte[] seal(byte[] key, byte[] value) {
    return b.sealer.sealValue(name, key, value);
  }

  StorageEngine.Write putWrite(byte[] key, Stored s) {
    return new StorageEngine.Write(
        id, key, b.frame.entry(s.version(), s.expiresAtMillis(), s.sealed(), framed, key));
  }

  /**
   * Adds to {@code batch} the writes that replace {@code old} (the stored entry, live or expired,
   * or null) by {@code next}: the entry and its expiry index change.
   */
  void putWrites(byte[] key, Stored old, Stored next, List<StorageEngine.Write> batch) {
    long was = old == null ? 0 : old.expiresAtMillis();
    if (was != 0 && was != next.expiresAtMillis()) {
      batch.add(new StorageEngine.Write(index, ExpiryIndex.key(was, key), null));
    }
    batch.add(putWrite(key, next));
    if (next.expiresAtMillis() != 0) {
      batch.add(indexPut(next.expiresAtMillis(), key));
    }
  }

  /** Adds to {@code batch} the writes that delete {@code old} (the stored entry) and its index. */
  void deleteWrites(byte[] key, Stored old, List<StorageEngine.Write> batch) {
    batch.add(new StorageEngine.Write(id, key, null));
    if (old != null && old.expiresAtMillis() != 0) {
      batch.add(new StorageEngine.Write(index, ExpiryIndex.key(old.expiresAtMillis(), key), null));
    }
  }

  private StorageEngine.Write indexPut(long expiresAt, byte[] key) {
    byte[] k = ExpiryIndex.key(expiresAt, key);
    return new StorageEngine.Write(index, k, ExpiryIndex.value(b.frame, index, k));
  }

  Stored decode(byte[] key, byte[] raw) {
    // by index, not through a ByteBuffer: this runs on every get (~6 % of a SQLite get's CPU
    // through a buffer, benchmarks/RESULTS-sqlite.md 2026-12-07)
    int end = b.frame.bodyEnd(RecordFrame.KV, framed, key, raw, whereOfKey);
    int at = RecordFrame.BODY;
    if (end - at < 16) {
      throw b.frame.corrupt(id, where(key), "is too short for its version and expiry");
    }
    long version = RecordFrame.longAt(raw, at);
    long expires = RecordFrame.longAt(raw, at + 8);
    if (version < 1) {
      throw b.frame.corrupt(id, where(key), "has version " + version + " (must be >= 1)");
    }
    return new Stored(version, expires, Arrays.copyOfRange(raw, at + 16, end));
  }

  /**
   * The record {@code raw} of {@code key} with its value sealed with the primary key, version and
   * expiry unchanged (also for an expired entry), or null when it is sealed with the primary.
   */
  byte[] resealed(byte[] key, byte[] raw) {
    Stored s = decode(key, raw);
    if (!b.sealer.needsReseal(s.sealed())) {
      return null;
    }
    byte[] sealed = b.sealer.resealValue(name, key, s.sealed());
    return putWrite(key, new Stored(s.version(), s.expiresAtMillis(), sealed)).value();
  }

  VersionConflictException conflict(byte[] key, long expected, long actual) {
    return new VersionConflictException(where(key) + " in " + this, expected, actual);
  }

  String where(byte[] key) {
    return "key " + Bytes.toDisplay(key, b.sealer.enabled());
  }

  private String indexWhere(byte[] indexKey) {
    return "expiry index record "
        + (indexKey.length < 8
            ? Bytes.toDisplay(indexKey, b.sealer.enabled())
            : ExpiryIndex.expiryOf(indexKey) + " | " + where(ExpiryIndex.userKeyOf(indexKey)));
  }

  /** {live entries, their key and value bytes}. */
  private long[] count() {
    long[] out = new long[2];
    byte[] from = new byte[0];
    while (true) {
      List<StorageEngine.Record> page = b.engine().range(id, from, null, EngineBackend.page());
      long now = b.now();
      for (StorageEngine.Record r : page) {
        Stored s = decode(r.key(), r.value());
        if (s.liveAt(now)) {
          out[0]++;
          out[1] += r.key().length + s.sealed().length;
        }
      }
      if (page.size() < EngineBackend.page()) {
        return out;
      }
      from = successor(page.get(page.size() - 1).key());
    }
  }

  StoreStats stats() {
    long[] c = count();
    return new StoreStats(id, c[0], c[1]);
  }

  /**
   * Checks every entry's frame and that its value opens, that every entry with a TTL has its index
   * record (every write of such an entry writes it in the same batch, so a missing one is damage; a
   * disagreement seen is confirmed holding the key's write stripe, so a write in flight is not
   * reported), and every index record's frame. An index record whose entry is gone or expires at
   * another instant is not reported: a blind put leaves the record of the entry it replaced (see
   * the class comment), and purge deletes it. Returns how many entries were checked (index records
   * not counted).
   */
  long verify(List<String> problems) {
    long checked = 0;
    byte[] from = new byte[0];
    while (true) {
      List<StorageEngine.Record> page = b.engine().range(id, from, null, EngineBackend.page());
      for (StorageEngine.Record r : page) {
        try {
          Stored s = decode(r.key(), r.value());
          b.sealer.openValue(name, r.key(), s.sealed());
          if (s.expiresAtMillis() != 0
              && b.engine().get(index, ExpiryIndex.key(s.expiresAtMillis(), r.key())) == null
              && confirmedUnindexed(r.key(), s.expiresAtMillis())) {
            problems.add(
                problem(where(r.key()))
                    + " expires at "
                    + s.expiresAtMillis()
                    + " but has no expiry index record: purgeExpired will not remove it (reads"
                    + " still hide it once expired). Overwrite or delete the key to index it.");
          }
        } catch (RuntimeException e) {
          problems.add(e.getMessage());
        }
        checked++;
      }
      if (page.size() < EngineBackend.page()) {
        break;
      }
      from = successor(page.get(page.size() - 1).key());
    }
    verifyIndex(problems);
    return checked;
  }

  /** The start of a problem {@link #verify} reports about {@code where} in this namespace. */
  private String problem(String where) {
    return ArgumentChecks.kindName(StoreKind.KEY_VALUE) + " '" + name + "': " + where;
  }

  /**
   * The index side of {@link #verify}: every index record's key and frame. Whether its entry still
   * expires then is not checked: a stale record is left by every blind put that changed a TTL.
   */
  private void verifyIndex(List<String> problems) {
    byte[] from = new byte[0];
    while (true) {
      List<StorageEngine.Record> page = b.engine().range(index, from, null, EngineBackend.page());
      for (StorageEngine.Record r : page) {
        try {
          ExpiryIndex.check(b.frame, index, r.key(), r.value(), indexWhere(r.key()));
        } catch (RuntimeException e) {
          problems.add(e.getMessage());
        }
      }
      if (page.size() < EngineBackend.page()) {
        return;
      }
      from = successor(page.get(page.size() - 1).key());
    }
  }

  /**
   * Re-reads the entry of {@code key} and its index record at {@code expiresAt} holding the key's
   * write stripe: whether the entry still expires then and the record is still missing.
   */
  private boolean confirmedUnindexed(byte[] key, long expiresAt) {
    return b.writeKey(
        "verify of",
        this,
        id,
        key,
        () -> {
          Stored s = stored(key);
          return s != null
              && s.expiresAtMillis() == expiresAt
              && b.engine().get(index, ExpiryIndex.key(expiresAt, key)) == null;
        });
  }

  /**
   * Writes the index record of every entry with a TTL, a page per batch: part of {@link
   * ExpiryIndex#ensureBuilt}, while the backend opens. Returns {entries scanned, indexed}.
   */
  long[] buildIndex() {
    long[] counts = new long[2];
    byte[] from = new byte[0];
    while (true) {
      List<StorageEngine.Record> page = b.engine().range(id, from, null, EngineBackend.page());
      List<StorageEngine.Write> batch = new ArrayList<>();
      for (StorageEngine.Record r : page) {
        try {
          long at = decode(r.key(), r.value()).expiresAtMillis();
          if (at != 0) {
            batch.add(indexPut(at, r.key()));
          }
        } catch (StoreCorruptedException e) {
          // not indexed: reads refuse it and verify reports it; the rest of the data opens
          LOG.warn("{} (not indexed for expiry while building the index)", e.getMessage());
        }
      }
      b.commit(batch);
      counts[0] += page.size();
      counts[1] += batch.size();
      if (page.size() < EngineBackend.page()) {
        return counts;
      }
      if (counts[0] / PROGRESS_EVERY != (counts[0] - page.size()) / PROGRESS_EVERY) {
        LOG.info("{}: expiry index: {} entries scanned so far", this, counts[0]);
      }
      from = successor(page.get(page.size() - 1).key());
    }
  }

  /** The smallest key greater than {@code key} in unsigned order: {@code key} + 0x00. */
  static byte[] successor(byte[] key) {
    return Arrays.copyOf(key, key.length + 1);
  }

  /**
   * A scan in pages of {@link EngineBackend#page()} entries, each one engine read, resuming after
   * the last key seen: keys strictly increase, and an entry live with the same value for the whole
   * iteration is returned. Holds nothing between pages; every call checks the backend is open.
   */
  private final class Scan implements CloseableIterator<Entry> {
    private final EngineReader reader;
    private final LongSupplier now;
    private final byte[] to;
    private byte[] from;
    private List<StorageEngine.Record> page = List.of();
    private int pos;
    private boolean last;
    private boolean closed;
    private Entry next;

    Scan(EngineReader reader, LongSupplier now, byte[] from, byte[] to) {
      this.reader = reader;
      this.now = now;
      this.from = from;
      this.to = to;
      this.last = to != null && Bytes.UNSIGNED.compare(from, to) >= 0;
    }

    @Override
    public boolean hasNext() {
      b.ensureOpen();
      if (closed) {
        return false;
      }
      while (next == null) {
        if (pos == page.size()) {
          if (last) {
            return false;
          }
          page = b.read(() -> reader.range(id, from, to, EngineBackend.page()));
          pos = 0;
          last = page.size() < EngineBackend.page();
          if (!page.isEmpty()) {
            from = successor(page.get(page.size() - 1).key());
          }
          continue;
        }
        StorageEngine.Record r = page.get(pos++);
        Stored s = decode(r.key(), r.value());
        if (s.liveAt(now.getAsLong())) {
          next = entry(r.key(), s);
        }
      }
      return true;
    }

    @Override
    public Entry next() {
      if (!hasNext()) {
        throw new NoSuchElementException("scan of " + BaseKeyValueStore.this + " has no more");
      }
      Entry e = next;
      next = null;
      return e;
    }

    @Override
    public void close() {
      closed = true;
      page = List.of();
      next = null;
    }
  }
}
