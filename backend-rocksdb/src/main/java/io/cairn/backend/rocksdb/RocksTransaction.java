package io.cairn.backend.rocksdb;

import io.cairn.persistence.Entry;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.spi.ArgumentChecks;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatchWithIndex;

/**
 * The view handed to {@link RocksDbBackend#inTransaction}. All writes go into one {@link
 * WriteBatchWithIndex}; reads go through it ({@code getFromBatchAndDB}) so they see the
 * transaction's own writes. The backend holds its transaction lock exclusively for the whole
 * callback, so no other writer changes the base under it, and {@link #commit()} is one atomic
 * RocksDB write: all of it becomes visible and durable together, or none of it.
 */
final class RocksTransaction implements Transaction {
  private final RocksDbBackend b;
  private final WriteBatchWithIndex batch;
  private final KvAccess access;
  private final Thread owner = Thread.currentThread();
  private final Map<String, Kv> kvViews = new HashMap<>();
  private final Map<String, Log> logViews = new LinkedHashMap<>();
  private boolean valid = true;

  RocksTransaction(RocksDbBackend b, WriteBatchWithIndex batch) {
    this.b = b;
    this.batch = batch;
    this.access = new KvAccess.InBatch(b, batch);
  }

  private void check() {
    if (!valid || Thread.currentThread() != owner) {
      throw new IllegalStateException(
          "A transaction view of backend '"
              + b.name()
              + "' is valid only inside its callback and on the thread running it");
    }
  }

  @Override
  public KeyValueWriter keyValue(String namespace) {
    check();
    return kvViews.computeIfAbsent(namespace, n -> new Kv(b.kv(n)));
  }

  @Override
  public LogWriter log(String name) {
    check();
    return logViews.computeIfAbsent(name, n -> new Log(b.logStore(n)));
  }

  /**
   * Writes the batch atomically and publishes the logs' new next offsets under the backend's
   * publish lock, so no reader sees the batch's KV writes without its log records (see {@link
   * RocksDbBackend#publishLock}).
   */
  void commit() {
    check();
    if (batch.count() == 0) {
      return;
    }
    b.call(
        "commit transaction",
        "transaction of " + batch.count() + " writes",
        () -> {
          for (Log l : logViews.values()) {
            if (l.pending > 0) {
              l.log.recordNext(batch, l.log.nextOffset() + l.pending);
            }
          }
          b.publishLock.writeLock().lock();
          try {
            b.db.write(b.writeOptions(), batch);
            Runnable hook = b.afterTransactionWrite;
            if (hook != null) {
              hook.run();
            }
            for (Log l : logViews.values()) {
              if (l.pending > 0) {
                l.log.committed(l.pending);
              }
            }
          } finally {
            b.publishLock.writeLock().unlock();
          }
          return null;
        });
  }

  void invalidate() {
    valid = false;
  }

  private final class Kv implements KeyValueWriter {
    private final RocksKvStore store;

    Kv(RocksKvStore store) {
      this.store = store;
    }

    @Override
    public Optional<Entry> getEntry(byte[] key) {
      check();
      ArgumentChecks.checkKey(key);
      try {
        return store.decode(
            key, access.get(b.kvCf, Layout.kvKey(store.sid, key)), b.clock.millis());
      } catch (RocksDBException e) {
        throw b.failure(e, "get in transaction", store.where(key));
      }
    }

    @Override
    public long put(byte[] key, byte[] value) {
      return write(key, -1, value, null);
    }

    @Override
    public long put(byte[] key, byte[] value, Duration ttl) {
      ArgumentChecks.checkTtl(ttl, true);
      return write(key, -1, value, ttl);
    }

    @Override
    public long compareAndSet(byte[] key, long expectedVersion, byte[] value, Duration ttl) {
      ArgumentChecks.checkTtl(ttl, true);
      RocksKvStore.checkExpected(expectedVersion);
      return write(key, expectedVersion, value, ttl);
    }

    @Override
    public boolean delete(byte[] key) {
      check();
      ArgumentChecks.checkKey(key);
      try {
        long now = b.clock.millis();
        return store.apply(access, key, -1, null, 0, now) > 0;
      } catch (RocksDBException e) {
        throw b.failure(e, "delete in transaction", store.where(key));
      }
    }

    private long write(byte[] key, long expected, byte[] value, Duration ttl) {
      check();
      ArgumentChecks.checkKey(key);
      ArgumentChecks.checkValue(value);
      try {
        long now = b.clock.millis();
        return store.apply(
            access, key, expected, value, ArgumentChecks.expiryMillis(now, ttl), now);
      } catch (RocksDBException e) {
        throw b.failure(e, "write in transaction", store.where(key));
      }
    }
  }

  private final class Log implements LogWriter {
    private final RocksLogStore log;
    private long pending;

    Log(RocksLogStore log) {
      this.log = log;
    }

    @Override
    public long append(byte[] payload) {
      check();
      ArgumentChecks.checkValue(payload);
      long offset = log.nextOffset() + pending;
      try {
        batch.put(
            b.logCf, Layout.logKey(log.sid, offset), log.stored(offset, payload, b.clock.millis()));
      } catch (RocksDBException e) {
        throw b.failure(e, "append in transaction", "log:" + log.name() + " offset " + offset);
      }
      pending++;
      return offset;
    }

    @Override
    public long appendAll(List<byte[]> payloads) {
      check();
      Objects.requireNonNull(payloads, "payloads");
      for (byte[] p : payloads) {
        ArgumentChecks.checkValue(p);
      }
      long first = log.nextOffset() + pending;
      for (byte[] p : payloads) {
        append(p);
      }
      return first;
    }

    @Override
    public long nextOffset() {
      check();
      return log.nextOffset() + pending;
    }
  }
}
