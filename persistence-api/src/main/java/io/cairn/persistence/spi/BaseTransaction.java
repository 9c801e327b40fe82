package io.cairn.persistence.spi;

import io.cairn.persistence.Entry;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.spi.BaseKeyValueStore.Stored;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A transaction of an {@link EngineBackend}. Runs holding the backend's write gate exclusively
 * ({@link WriteOrder#all}) for its whole work, so nothing else writes meanwhile: the versions and
 * offsets it reads stay current until its batch is written. (Its keys are not known before the work
 * runs, so it cannot take only theirs; transactions are therefore serialised with each other and
 * with every write.) Writes wait in per-store overlays (a key mapped to {@code null} is a delete)
 * and pending log records; reads through the view consult them first. {@link #commit()} turns them
 * into ONE engine batch (entries, records and log positions), so the engine's atomic batch is the
 * transaction's commit; if the work throws, the overlays are dropped and nothing was ever written.
 */
final class BaseTransaction implements Transaction {
  private final EngineBackend b;
  private final Thread owner = Thread.currentThread();
  private final Map<String, KvView> kv = new LinkedHashMap<>();
  private final Map<String, LogView> logs = new LinkedHashMap<>();
  private boolean ended;

  BaseTransaction(EngineBackend backend) {
    this.b = backend;
  }

  @Override
  public KeyValueWriter keyValue(String namespace) {
    usable();
    ArgumentChecks.check(StoreKind.KEY_VALUE, namespace);
    return kv.computeIfAbsent(namespace, n -> new KvView(b.kvStore(n)));
  }

  @Override
  public LogWriter log(String name) {
    usable();
    ArgumentChecks.check(StoreKind.LOG, name);
    return logs.computeIfAbsent(name, n -> new LogView(b.logStore(n)));
  }

  void end() {
    ended = true;
  }

  /** One engine batch for everything; then the logs' next offsets are published. */
  void commit() {
    List<StorageEngine.Write> batch = new ArrayList<>();
    for (KvView v : kv.values()) {
      v.overlay.forEach(
          (k, s) -> {
            Stored old = v.before.get(k); // as stored before the work, expired or not
            if (s == null) {
              if (old != null) {
                v.store.deleteWrites(k, old, batch);
              }
            } else {
              v.store.putWrites(k, old, s, batch);
            }
          });
    }
    Map<BaseLogStore, Long> ends = new LinkedHashMap<>();
    for (LogView v : logs.values()) {
      if (!v.pending.isEmpty()) {
        long end = v.store.records(v.store.nextUnlocked(), v.pending, batch);
        v.store.addPositionAt(end, batch);
        ends.put(v.store, end);
      }
    }
    b.commit(batch);
    ends.forEach(BaseLogStore::published);
  }

  private void usable() {
    b.ensureOpen();
    if (ended) {
      throw new IllegalStateException(
          "This transaction of " + b + " has ended; its view is valid only inside the work");
    }
    if (Thread.currentThread() != owner) {
      throw new IllegalStateException(
          "A transaction view of " + b + " was used from another thread than the one running it");
    }
  }

  private final class KvView implements KeyValueWriter {
    private final BaseKeyValueStore store;
    private final TreeMap<byte[], Stored> overlay = new TreeMap<>(Bytes.UNSIGNED);
    // each key read: its stored entry before the work (null: none), for its expiry index record
    private final TreeMap<byte[], Stored> before = new TreeMap<>(Bytes.UNSIGNED);

    KvView(BaseKeyValueStore store) {
      this.store = store;
    }

    private Stored current(byte[] key) {
      Stored s = overlay.containsKey(key) ? overlay.get(key) : stored(key);
      return s != null && s.liveAt(b.now()) ? s : null;
    }

    /** The entry stored before the work, expired or not, read once. */
    private Stored stored(byte[] key) {
      if (before.containsKey(key)) {
        return before.get(key);
      }
      Stored s = store.stored(key);
      before.put(key.clone(), s);
      return s;
    }

    @Override
    public Optional<Entry> getEntry(byte[] key) {
      usable();
      ArgumentChecks.checkKey(key);
      return Optional.ofNullable(store.entry(key, current(key)));
    }

    @Override
    public long put(byte[] key, byte[] value) {
      return write(key, value, null, -1);
    }

    @Override
    public long put(byte[] key, byte[] value, Duration ttl) {
      return write(key, value, ttl, -1);
    }

    @Override
    public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
      ArgumentChecks.checkExpectedVersion(expectedVersion);
      return write(key, value, ttl, expectedVersion);
    }

    private long write(byte[] key, byte[] value, Duration ttl, long expected) {
      usable();
      ArgumentChecks.checkKey(key);
      ArgumentChecks.checkValue(value);
      ArgumentChecks.checkTtl(ttl);
      if (expected >= 0) {
        Stored cur = current(key);
        long version = cur == null ? 0 : cur.version();
        if (expected != version) {
          throw store.conflict(key, expected, version);
        }
      } // else blind, as the store's put: a key never read leaves its old index record (stale)
      byte[] k = key.clone();
      Stored next =
          new Stored(
              b.versions().next(), ArgumentChecks.expiryMillis(b.now(), ttl), store.seal(k, value));
      overlay.put(k, next);
      return next.version();
    }

    @Override
    public boolean delete(byte[] key) {
      usable();
      ArgumentChecks.checkKey(key);
      stored(key); // read even after a blind put of the key: the commit deletes what is stored
      boolean live = current(key) != null;
      overlay.put(key.clone(), null);
      return live;
    }
  }

  private final class LogView implements LogWriter {
    private final BaseLogStore store;
    private final List<byte[]> pending = new ArrayList<>();

    LogView(BaseLogStore store) {
      this.store = store;
    }

    @Override
    public long append(byte[] payload) {
      usable();
      ArgumentChecks.checkPayload(payload);
      long offset = nextOffset();
      pending.add(payload.clone());
      return offset;
    }

    @Override
    public long appendAll(List<byte[]> payloads) {
      usable();
      Objects.requireNonNull(payloads, "payloads");
      for (byte[] p : payloads) {
        ArgumentChecks.checkPayload(p);
      }
      long offset = nextOffset();
      for (byte[] p : payloads) {
        pending.add(p.clone());
      }
      return offset;
    }

    @Override
    public long nextOffset() {
      usable();
      return store.nextUnlocked() + pending.size();
    }
  }
}
