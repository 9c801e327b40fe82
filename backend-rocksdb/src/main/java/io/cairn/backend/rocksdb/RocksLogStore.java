package io.cairn.backend.rocksdb;

import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.StoreNames;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;

/**
 * A log: records under {@code sid + offset} (big-endian, so key order is offset order) in column
 * family {@code log}; the first retained offset under {@code log-first/sid} in the meta family (see
 * {@link Layout} for how offsets survive truncation and restart).
 *
 * <p>Offsets are assigned under this log's lock and the record is written before the lock is
 * released, so offsets are gap-free and a record is durable (per the backend's durability) before
 * any later offset is handed out. Consequently appends to one log are serialised, including their
 * fsyncs under {@code durability = full}; appends to different logs run in parallel.
 */
final class RocksLogStore implements LogStore {
  private final RocksDbBackend b;
  private final String name;
  final int sid;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile long first;
  private volatile long next;

  private RocksLogStore(RocksDbBackend b, String name, int sid, long first, long next) {
    this.b = b;
    this.name = name;
    this.sid = sid;
    this.first = first;
    this.next = next;
  }

  /** Reads the log's positions: next = last record + 1, or the stored first offset if empty. */
  static RocksLogStore load(RocksDbBackend b, String name, int sid) {
    long[] pos =
        b.call(
            "open log",
            "log:" + name,
            () -> {
              byte[] f = b.db.get(b.metaCf, Layout.logFirstKey(sid));
              long first = f == null ? 0 : Layout.getLong(f, 0);
              long next = first;
              try (RocksIterator it = b.db.newIterator(b.logCf, b.readOptions)) {
                it.seekForPrev(Layout.logKey(sid, Long.MAX_VALUE));
                if (it.isValid() && Layout.inStore(it.key(), sid)) {
                  next = Math.max(next, Layout.logOffset(it.key()) + 1);
                }
                it.status();
              }
              return new long[] {first, next};
            });
    return new RocksLogStore(b, name, sid, pos[0], pos[1]);
  }

  @Override
  public String name() {
    return name;
  }

  private String where() {
    return "log:" + name;
  }

  @Override
  public long append(byte[] payload) {
    StoreNames.checkValue(payload);
    b.enter();
    try {
      b.txLock.readLock().lock();
      lock.lock();
      try {
        long offset = next;
        b.db.put(b.logCf, b.writeOptions, Layout.logKey(sid, offset), b.encryption.seal(payload));
        next = offset + 1;
        return offset;
      } catch (RocksDBException e) {
        throw b.failure(e, "append", where() + " offset " + next);
      } finally {
        lock.unlock();
        b.txLock.readLock().unlock();
      }
    } finally {
      b.exit();
    }
  }

  @Override
  public long appendAll(List<byte[]> payloads) {
    Objects.requireNonNull(payloads, "payloads");
    for (byte[] p : payloads) {
      StoreNames.checkValue(p);
    }
    if (payloads.isEmpty()) {
      return nextOffset();
    }
    b.enter();
    try {
      b.txLock.readLock().lock();
      lock.lock();
      try (WriteBatch batch = new WriteBatch()) {
        long start = next;
        long offset = start;
        for (byte[] p : payloads) {
          batch.put(b.logCf, Layout.logKey(sid, offset++), b.encryption.seal(p));
        }
        b.db.write(b.writeOptions, batch);
        next = offset;
        return start;
      } catch (RocksDBException e) {
        throw b.failure(e, "appendAll", where() + " at offset " + next);
      } finally {
        lock.unlock();
        b.txLock.readLock().unlock();
      }
    } finally {
      b.exit();
    }
  }

  @Override
  public List<LogRecord> read(long fromOffset, int maxRecords) {
    StoreNames.checkMaxRecords(maxRecords);
    b.checkOpen();
    long start = Math.max(fromOffset, first);
    long end = publishedNext();
    List<LogRecord> out = new ArrayList<>(Math.min(maxRecords, 1024));
    if (start >= end) {
      return out;
    }
    b.forEach(
        "read",
        where() + " from offset " + start,
        b.logCf,
        Layout.logKey(sid, start),
        Layout.logKey(sid, end),
        (k, v) -> {
          long offset = Layout.logOffset(k);
          if (!out.isEmpty() && offset != out.get(out.size() - 1).offset() + 1) {
            throw new StoreCorruptedException(
                b.describe
                    + ", "
                    + where()
                    + ": record "
                    + (out.get(out.size() - 1).offset() + 1)
                    + " is missing (next present is "
                    + offset
                    + "). Run 'cairn verify' and restore from a backup.");
          }
          out.add(new LogRecord(offset, b.encryption.open(v)));
          return out.size() < maxRecords;
        });
    return out;
  }

  @Override
  public long firstOffset() {
    b.checkOpen();
    return first;
  }

  @Override
  public long nextOffset() {
    b.checkOpen();
    return publishedNext();
  }

  /**
   * The next offset as readers may see it: waits out a transaction commit in progress, so a reader
   * that saw the commit's KV writes also sees its records here.
   */
  private long publishedNext() {
    b.publishLock.readLock().lock();
    try {
      return next;
    } finally {
      b.publishLock.readLock().unlock();
    }
  }

  @Override
  public long truncateBefore(long offset) {
    b.enter();
    try {
      b.txLock.readLock().lock();
      lock.lock();
      try (WriteBatch batch = new WriteBatch()) {
        long target = Math.min(offset, next);
        long from = first;
        if (target <= from) {
          return 0;
        }
        batch.deleteRange(b.logCf, Layout.logKey(sid, from), Layout.logKey(sid, target));
        batch.put(b.metaCf, Layout.logFirstKey(sid), Layout.longBytes(target));
        b.db.write(b.writeOptions, batch);
        first = target;
        return target - from;
      } catch (RocksDBException e) {
        throw b.failure(e, "truncateBefore", where() + " offset " + offset);
      } finally {
        lock.unlock();
        b.txLock.readLock().unlock();
      }
    } finally {
      b.exit();
    }
  }

  /** Advances the next offset after a transaction committed {@code n} records to this log. */
  void committed(long n) {
    lock.lock();
    try {
      next += n;
    } finally {
      lock.unlock();
    }
  }
}
