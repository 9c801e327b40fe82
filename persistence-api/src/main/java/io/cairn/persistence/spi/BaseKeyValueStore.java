package io.cairn.persistence.spi;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.VersionConflictException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.LongSupplier;

/**
 * The key-value namespace of every {@link EngineBackend}: argument checks, TTL and expiry, version
 * assignment, framing and sealing over the engine's point reads, pages and batches. Entries are
 * records {@code 'K' | version | expiresAt | sealed value} under the user key.
 */
final class BaseKeyValueStore implements KeyValueStore {
  /** One decoded entry; {@code sealed} is still sealed. */
  record Stored(long version, long expiresAtMillis, byte[] sealed) {
    boolean liveAt(long now) {
      return expiresAtMillis == 0 || now < expiresAtMillis;
    }
  }

  private final EngineBackend b;
  private final String name;
  final StoreId id;

  BaseKeyValueStore(EngineBackend backend, String name) {
    this.b = backend;
    this.name = name;
    this.id = new StoreId(StoreKind.KEY_VALUE, name);
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

  /** {@code expected} -1 = unconditional. */
  private long write(byte[] key, long expected, byte[] value, Duration ttl) {
    ArgumentChecks.checkKey(key);
    ArgumentChecks.checkValue(value);
    ArgumentChecks.checkTtl(ttl);
    byte[] k = key.clone();
    return b.writeKey(
        "put to " + this,
        id,
        k,
        () -> {
          long now = b.now();
          Stored current = live(k);
          long version = current == null ? 0 : current.version();
          if (expected >= 0 && expected != version) {
            throw conflict(k, expected, version);
          }
          Stored next =
              new Stored(version + 1, ArgumentChecks.expiryMillis(now, ttl), seal(k, value));
          b.commit(List.of(putWrite(k, next)));
          return next.version();
        });
  }

  @Override
  public boolean delete(byte[] key) {
    ArgumentChecks.checkKey(key);
    byte[] k = key.clone();
    return b.writeKey(
        "delete from " + this,
        id,
        k,
        () -> {
          byte[] raw = b.engine().get(id, k);
          if (raw == null) {
            return false;
          }
          boolean wasLive = decode(k, raw).liveAt(b.now());
          b.commit(List.of(deleteWrite(k)));
          return wasLive;
        });
  }

  @Override
  public void compareAndDelete(byte[] key, long expectedVersion) {
    ArgumentChecks.checkKey(key);
    ArgumentChecks.checkExpectedVersion(expectedVersion);
    byte[] k = key.clone();
    b.writeKey(
        "compareAndDelete on " + this,
        id,
        k,
        () -> {
          Stored current = live(k);
          long version = current == null ? 0 : current.version();
          if (version == 0 || version != expectedVersion) {
            throw conflict(k, expectedVersion, version);
          }
          b.commit(List.of(deleteWrite(k)));
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
    for (KeyValue e : copies) {
      keys.add(e.key());
    }
    b.writeKeys(
        "putAll to " + this,
        id,
        keys,
        () -> {
          // a key given twice: the later wins, with a version above the earlier one's
          TreeMap<byte[], Long> versions = new TreeMap<>(Bytes.UNSIGNED);
          List<StorageEngine.Write> batch = new ArrayList<>(copies.size());
          for (KeyValue e : copies) {
            Long before = versions.get(e.key());
            long version;
            if (before != null) {
              version = before;
            } else {
              Stored current = live(e.key());
              version = current == null ? 0 : current.version();
            }
            versions.put(e.key(), version + 1);
            batch.add(putWrite(e.key(), new Stored(version + 1, 0, seal(e.key(), e.value()))));
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
   * Removes expired entries in batches of at most {@link EngineBackend#page()}, each holding only
   * the write stripes of its own keys while it deletes them (an entry rewritten meanwhile is
   * re-checked and kept).
   */
  @Override
  public long purgeExpired() {
    return b.read(
        () -> {
          long removed = 0;
          byte[] from = new byte[0];
          while (true) {
            List<StorageEngine.Record> page =
                b.engine().range(id, from, null, EngineBackend.page());
            long now = b.now();
            List<byte[]> expired = new ArrayList<>();
            for (StorageEngine.Record r : page) {
              if (!decode(r.key(), r.value()).liveAt(now)) {
                expired.add(r.key());
              }
            }
            if (!expired.isEmpty()) {
              removed +=
                  b.writeKeys(
                      "purgeExpired of " + this,
                      id,
                      expired,
                      () -> {
                        long at = b.now();
                        List<StorageEngine.Write> batch = new ArrayList<>();
                        for (byte[] k : expired) {
                          byte[] raw = b.engine().get(id, k);
                          if (raw != null && !decode(k, raw).liveAt(at)) {
                            batch.add(deleteWrite(k));
                          }
                        }
                        b.commit(batch);
                        return (long) batch.size();
                      });
            }
            if (page.size() < EngineBackend.page()) {
              return removed;
            }
            from = successor(page.get(page.size() - 1).key());
          }
        });
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

  /** The live entry for {@code key}, still sealed, or null. */
  Stored live(byte[] key) {
    return live(b.current, key, b.now());
  }

  /** The entry for {@code key} in {@code reader} live at {@code now}, still sealed, or null. */
  Stored live(EngineReader reader, byte[] key, long now) {
    byte[] raw = reader.get(id, key);
    if (raw == null) {
      return null;
    }
    Stored s = decode(key, raw);
    return s.liveAt(now) ? s : null;
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
    ByteBuffer buf = b.frame.begin(RecordFrame.KV, 16 + s.sealed().length);
    buf.putLong(s.version()).putLong(s.expiresAtMillis()).put(s.sealed());
    return new StorageEngine.Write(id, key, b.frame.end(buf, id, key));
  }

  StorageEngine.Write deleteWrite(byte[] key) {
    return new StorageEngine.Write(id, key, null);
  }

  Stored decode(byte[] key, byte[] raw) {
    ByteBuffer body = b.frame.open(RecordFrame.KV, id, key, raw, where(key));
    if (body.remaining() < 16) {
      throw b.frame.corrupt(id, where(key), "is too short for its version and expiry");
    }
    long version = body.getLong();
    long expires = body.getLong();
    if (version < 1) {
      throw b.frame.corrupt(id, where(key), "has version " + version + " (must be >= 1)");
    }
    byte[] sealed = new byte[body.remaining()];
    body.get(sealed);
    return new Stored(version, expires, sealed);
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

  /** Checks every entry's frame and that its value opens; returns how many were checked. */
  long verify(List<String> problems) {
    long checked = 0;
    byte[] from = new byte[0];
    while (true) {
      List<StorageEngine.Record> page = b.engine().range(id, from, null, EngineBackend.page());
      for (StorageEngine.Record r : page) {
        try {
          b.sealer.openValue(name, r.key(), decode(r.key(), r.value()).sealed());
        } catch (RuntimeException e) {
          problems.add(e.getMessage());
        }
        checked++;
      }
      if (page.size() < EngineBackend.page()) {
        return checked;
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
