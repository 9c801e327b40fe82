package io.cairn.backend.memory;

import io.cairn.backend.memory.MemoryKeyValueStore.Stored;
import io.cairn.persistence.Entry;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.spi.Bytes;
import io.cairn.persistence.spi.StoreNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A transaction of the memory backend. Runs while the backend's exclusive lock is held, so nothing
 * else writes meanwhile. Writes go to per-store overlays (a key mapped to {@code null} is a
 * delete); reads consult the overlay first, so the work sees its own writes. {@link #commit()}
 * installs the overlays; if the work throws, the overlays are dropped and nothing was ever visible.
 */
final class MemoryTransaction implements Transaction {
  private final MemoryBackend backend;
  private final Thread owner = Thread.currentThread();
  private final Map<String, KvView> kv = new LinkedHashMap<>();
  private final Map<String, LogView> logs = new LinkedHashMap<>();
  private boolean ended;

  MemoryTransaction(MemoryBackend backend) {
    this.backend = backend;
  }

  @Override
  public KeyValueWriter keyValue(String namespace) {
    checkUsable();
    StoreNames.check("key-value namespace", namespace);
    return kv.computeIfAbsent(namespace, n -> new KvView(backend.kvStore(n)));
  }

  @Override
  public LogWriter log(String name) {
    checkUsable();
    StoreNames.check("log", name);
    return logs.computeIfAbsent(name, n -> new LogView(backend.logStore(n)));
  }

  /** Marks the view unusable; called when the work returns or throws. */
  void end() {
    ended = true;
  }

  /** Installs every overlay. Caller holds the exclusive lock. Cannot fail part-way. */
  void commit() {
    for (KvView v : kv.values()) {
      v.overlay.forEach(v.store::install);
      backend.commitStep("installed namespace " + v.store.name());
    }
    for (LogView v : logs.values()) {
      if (!v.pending.isEmpty()) {
        v.store.appendInternal(v.pending);
        backend.commitStep("appended to log " + v.store.name());
      }
    }
  }

  private void checkUsable() {
    backend.ensureOpen();
    if (ended) {
      throw new IllegalStateException(
          "This transaction of " + backend + " has ended; its view is valid only inside the work");
    }
    if (Thread.currentThread() != owner) {
      throw new IllegalStateException(
          "A transaction view of " + backend + " was used from another thread");
    }
  }

  private final class KvView implements KeyValueWriter {
    private final MemoryKeyValueStore store;
    private final TreeMap<byte[], Stored> overlay = new TreeMap<>(Bytes.UNSIGNED);

    KvView(MemoryKeyValueStore store) {
      this.store = store;
    }

    private Stored current(byte[] key) {
      if (overlay.containsKey(key)) {
        Stored s = overlay.get(key);
        return s != null && s.liveAt(backend.now()) ? s : null;
      }
      return store.liveOrNull(key);
    }

    @Override
    public Optional<Entry> getEntry(byte[] key) {
      checkUsable();
      StoreNames.checkKey(key);
      return Optional.ofNullable(MemoryKeyValueStore.entryOf(key, current(key)));
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
      MemoryKeyValueStore.checkExpected(expectedVersion);
      return write(key, value, ttl, expectedVersion);
    }

    private long write(byte[] key, byte[] value, Duration ttl, long expected) {
      checkUsable();
      StoreNames.checkKey(key);
      StoreNames.checkValue(value);
      StoreNames.checkTtl(ttl, true);
      Stored cur = current(key);
      long version = cur == null ? 0 : cur.version();
      if (expected >= 0 && expected != version) {
        throw store.conflict(key, expected, version);
      }
      long now = backend.now();
      Stored next = new Stored(value.clone(), version + 1, StoreNames.expiryMillis(now, ttl));
      overlay.put(key.clone(), next);
      return next.version();
    }

    @Override
    public boolean delete(byte[] key) {
      checkUsable();
      StoreNames.checkKey(key);
      boolean live = current(key) != null;
      overlay.put(key.clone(), null);
      return live;
    }
  }

  private final class LogView implements LogWriter {
    private final MemoryLogStore store;
    private final List<byte[]> pending = new ArrayList<>();

    LogView(MemoryLogStore store) {
      this.store = store;
    }

    @Override
    public long append(byte[] payload) {
      checkUsable();
      long offset = nextOffset();
      pending.add(MemoryLogStore.checkPayload(payload).clone());
      return offset;
    }

    @Override
    public long appendAll(List<byte[]> payloads) {
      checkUsable();
      List<byte[]> copies = MemoryLogStore.copyAll(payloads);
      long offset = nextOffset();
      pending.addAll(copies);
      return offset;
    }

    @Override
    public long nextOffset() {
      checkUsable();
      return store.nextOffsetUnlocked() + pending.size();
    }
  }
}
