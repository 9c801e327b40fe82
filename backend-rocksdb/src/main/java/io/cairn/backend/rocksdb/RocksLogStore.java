package io.cairn.backend.rocksdb;

import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.Sealer;
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
  // records at offsets >= timedFrom carry their append time (see Layout); fixed after open, except
  // that an import into the empty log may move it (importRecords)
  private volatile long timedFrom;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile long first;
  private volatile long next;
  // one per log, as RocksKvStore's: it keeps the encoded associated-data header of this log
  private final Sealer sealer;

  private RocksLogStore(
      RocksDbBackend b, String name, int sid, long first, long next, long timedFrom) {
    this.b = b;
    this.sealer = Sealer.of(b.name(), b.encryption);
    this.name = name;
    this.sid = sid;
    this.timedFrom = timedFrom;
    this.first = first;
    this.next = next;
  }

  /**
   * Reads the log's positions: next = the largest of the stored {@code log-next}, last record + 1
   * and the first offset (see {@link Layout}).
   */
  static RocksLogStore load(RocksDbBackend b, String name, int sid) {
    long[] pos = b.call("open log", "log:" + name, () -> positions(b, sid, b.readOptions));
    byte[] t =
        b.call("open log", "log:" + name, () -> b.db.get(b.metaCf, Layout.logTimedFromKey(sid)));
    return new RocksLogStore(b, name, sid, pos[0], pos[1], t == null ? 0 : Layout.getLong(t, 0));
  }

  /**
   * First and next offset of log {@code sid} as stored, read with {@code readOptions} (the latest
   * state, or a read transaction's snapshot). The caller is inside the guard.
   */
  static long[] positions(RocksEngine b, int sid, org.rocksdb.ReadOptions readOptions)
      throws RocksDBException {
    byte[] f = b.db.get(b.metaCf, readOptions, Layout.logFirstKey(sid));
    long first = f == null ? 0 : Layout.getLong(f, 0);
    byte[] n = b.db.get(b.metaCf, readOptions, Layout.logNextKey(sid));
    long next = Math.max(first, n == null ? 0 : Layout.getLong(n, 0));
    try (RocksIterator it = b.db.newIterator(b.logCf, readOptions)) {
      it.seekForPrev(Layout.logKey(sid, Long.MAX_VALUE));
      if (it.isValid() && Layout.inStore(it.key(), sid)) {
        next = Math.max(next, Layout.logOffset(it.key()) + 1);
      }
      it.status();
    }
    return new long[] {first, next};
  }

  /** The record stored at {@code offset}: its append time and payload (opened by the Sealer). */
  LogRecord record(long offset, byte[] stored) {
    if (offset < timedFrom) {
      return new LogRecord(offset, sealer.openPayload(name, offset, stored));
    }
    long at = appendTime(offset, stored);
    byte[] sealed = java.util.Arrays.copyOfRange(stored, 8, stored.length);
    return new LogRecord(offset, sealer.openPayload(name, offset, sealed), at);
  }

  private long appendTime(long offset, byte[] stored) {
    long at = stored.length < 8 ? -2 : Layout.getLong(stored, 0);
    if (at < 0) {
      throw new StoreCorruptedException(
          b.describe
              + ", "
              + where()
              + ": record "
              + offset
              + (stored.length < 8
                  ? " is too short for its append time"
                  : " has a negative append time " + at)
              + "; it is not returned. Run 'cairn verify' and restore from a backup.");
    }
    return at;
  }

  /** The value stored for {@code payload} at {@code offset}, appended at {@code at}. */
  byte[] stored(long offset, byte[] payload, long at) {
    if (offset < timedFrom) {
      throw new IllegalStateException("append below the log's timed-from offset " + timedFrom);
    }
    return timed(at, sealed(offset, payload));
  }

  /** {@code payload} sealed for {@code offset} of this log: a record's value below timed-from. */
  private byte[] sealed(long offset, byte[] payload) {
    return sealer.sealPayload(name, offset, payload);
  }

  /** A record's value at or above timed-from: its append time, then the sealed payload. */
  private static byte[] timed(long at, byte[] sealed) {
    byte[] out = new byte[8 + sealed.length];
    Layout.putLong(out, 0, at);
    System.arraycopy(sealed, 0, out, 8, sealed.length);
    return out;
  }

  /** The stored value re-sealed with the primary key (time kept), or null if already sealed so. */
  byte[] resealed(long offset, byte[] stored) {
    if (offset < timedFrom) {
      return sealer.needsReseal(stored) ? sealer.resealPayload(name, offset, stored) : null;
    }
    appendTime(offset, stored);
    byte[] sealed = java.util.Arrays.copyOfRange(stored, 8, stored.length);
    if (!sealer.needsReseal(sealed)) {
      return null;
    }
    byte[] fresh = sealer.resealPayload(name, offset, sealed);
    byte[] out = java.util.Arrays.copyOf(stored, 8 + fresh.length);
    System.arraycopy(fresh, 0, out, 8, fresh.length);
    return out;
  }

  /** Re-reads first and next offsets from the engine after it was restarted (see backend). */
  void reload() {
    lock.lock();
    try {
      RocksLogStore fresh = load(b, name, sid);
      first = fresh.first;
      next = fresh.next;
    } finally {
      lock.unlock();
    }
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
    ArgumentChecks.checkValue(payload);
    b.enter();
    try {
      b.txLock.lockShared();
      lock.lock();
      try {
        long offset = next;
        try (WriteBatch batch = new WriteBatch()) {
          batch.put(b.logCf, Layout.logKey(sid, offset), stored(offset, payload, b.clock.millis()));
          recordNext(batch, offset + 1);
          b.db.write(b.writeOptions(), batch);
        }
        next = offset + 1;
        return offset;
      } catch (RocksDBException e) {
        throw b.failure(e, "append", where() + " offset " + next);
      } finally {
        lock.unlock();
        b.txLock.unlockShared();
      }
    } finally {
      b.exit();
    }
  }

  @Override
  public long appendAll(List<byte[]> payloads) {
    Objects.requireNonNull(payloads, "payloads");
    for (byte[] p : payloads) {
      ArgumentChecks.checkValue(p);
    }
    if (payloads.isEmpty()) {
      return nextOffset();
    }
    b.enter();
    try {
      b.txLock.lockShared();
      lock.lock();
      try (WriteBatch batch = new WriteBatch()) {
        long start = next;
        long offset = start;
        long at = b.clock.millis(); // one instant for the batch
        for (byte[] p : payloads) {
          batch.put(b.logCf, Layout.logKey(sid, offset), stored(offset, p, at));
          offset++;
        }
        recordNext(batch, offset);
        b.db.write(b.writeOptions(), batch);
        next = offset;
        return start;
      } catch (RocksDBException e) {
        throw b.failure(e, "appendAll", where() + " at offset " + next);
      } finally {
        lock.unlock();
        b.txLock.unlockShared();
      }
    } finally {
      b.exit();
    }
  }

  /** Records the next offset in the batch that writes the records below it (see {@link Layout}). */
  void recordNext(org.rocksdb.AbstractWriteBatch batch, long nextOffset) throws RocksDBException {
    batch.put(b.metaCf, Layout.logNextKey(sid), Layout.longBytes(nextOffset));
  }

  /**
   * Reads records {@code [max(from, first), next)}: every offset in that range must be present, so
   * a record lost to damage (in the middle or at the tail) is a {@link StoreCorruptedException}
   * naming the offset, never a shorter answer. An offset missing below a concurrently advanced
   * first offset is truncation, not damage: the read restarts from the new first offset.
   */
  @Override
  public List<LogRecord> read(long fromOffset, int maxRecords) {
    ArgumentChecks.checkMaxRecords(maxRecords);
    b.checkOpen();
    while (true) {
      long start = Math.max(fromOffset, first);
      long end = publishedNext();
      List<LogRecord> out = new ArrayList<>(Math.min(maxRecords, 1024));
      if (start >= end) {
        return out;
      }
      long[] expected = {start};
      long[] missing = {-1, -1}; // first missing offset, next present (or -1)
      b.forEach(
          "read",
          where() + " from offset " + start,
          b.logCf,
          Layout.logKey(sid, start),
          Layout.logKey(sid, end),
          (k, v) -> {
            long offset = Layout.logOffset(k);
            if (offset != expected[0]) {
              missing[0] = expected[0];
              missing[1] = offset;
              return false;
            }
            out.add(record(offset, v));
            expected[0] = offset + 1;
            return out.size() < maxRecords;
          });
      if (missing[0] < 0 && out.size() < maxRecords && expected[0] < end) {
        missing[0] = expected[0];
      }
      if (missing[0] < 0) {
        return out;
      }
      if (first > missing[0]) {
        continue; // truncated while reading
      }
      throw new StoreCorruptedException(
          b.describe
              + ", "
              + where()
              + ": record "
              + missing[0]
              + " is missing ("
              + (missing[1] < 0 ? "no record after it" : "next present is " + missing[1])
              + "; the log holds offsets "
              + first
              + " to "
              + (end - 1)
              + "). Run 'cairn verify' and restore from a backup.");
    }
  }

  /**
   * Checks that every offset in {@code [first, next)} holds a record and none lies outside it; adds
   * one problem per gap. Returns the records checked.
   */
  long verify(List<String> problems) {
    long lo = first;
    long hi = publishedNext();
    long[] expected = {lo};
    long[] count = {0};
    List<String> found = new ArrayList<>();
    b.forEach(
        "verify",
        where(),
        b.logCf,
        Layout.sidPrefix(sid),
        Layout.sidEnd(sid),
        (k, v) -> {
          long offset = Layout.logOffset(k);
          count[0]++;
          if (offset < lo || offset >= hi) {
            if (found.size() < 20) {
              found.add(
                  where()
                      + " of "
                      + b.describe
                      + ": record "
                      + offset
                      + " lies outside the recorded offsets "
                      + lo
                      + " to "
                      + (hi - 1));
            }
            return true;
          }
          if (offset > expected[0] && found.size() < 20) {
            found.add(gap(expected[0], offset - 1, lo, hi));
          }
          expected[0] = offset + 1;
          return true;
        });
    if (expected[0] < hi && found.size() < 20) {
      found.add(gap(expected[0], hi - 1, lo, hi));
    }
    problems.addAll(found);
    return count[0];
  }

  private String gap(long from, long to, long lo, long hi) {
    return where()
        + " of "
        + b.describe
        + ": records "
        + (from == to ? String.valueOf(from) : from + " to " + to)
        + " are missing (the log holds offsets "
        + lo
        + " to "
        + (hi - 1)
        + "); restore from a backup";
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
      b.txLock.lockShared();
      lock.lock();
      try (WriteBatch batch = new WriteBatch()) {
        long target = Math.min(offset, next);
        long from = first;
        if (target <= from) {
          return 0;
        }
        batch.deleteRange(b.logCf, Layout.logKey(sid, from), Layout.logKey(sid, target));
        batch.put(b.metaCf, Layout.logFirstKey(sid), Layout.longBytes(target));
        // Publish the new first offset before the records disappear, so a concurrent read that
        // misses one of them sees why (truncation, not damage); put it back if the write fails.
        first = target;
        try {
          b.db.write(b.writeOptions(), batch);
        } catch (RocksDBException | RuntimeException e) {
          first = from;
          throw e;
        }
        return target - from;
      } catch (RocksDBException e) {
        throw b.failure(e, "truncateBefore", where() + " offset " + offset);
      } finally {
        lock.unlock();
        b.txLock.unlockShared();
      }
    } finally {
      b.exit();
    }
  }

  /** Whether no offset of this log was ever used: no record, nothing truncated (import). */
  boolean neverWritten() {
    lock.lock();
    try {
      return first == 0 && next == 0;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Writes imported {@code records} ({@link RocksImporter}; checked by the caller: contiguous,
   * starting at the log's next offset, or anywhere when {@code fresh}, the first import into this
   * never-written log) in one batch, framed as {@link #stored} frames an append, with the log's
   * next offset and, when {@code fresh}, its first offset (the offsets below count as truncated).
   * Records without an append time are stored as layout 1 stored them, below {@code
   * log-timed-from}, which the same batch moves past them; that can only extend a prefix of such
   * records (the layout has no other way to say "not recorded"), so one after a record with an
   * append time is refused. The caller holds the guard and the transaction lock exclusively.
   */
  void importRecords(List<LogRecord> records, boolean fresh) throws RocksDBException {
    lock.lock();
    try (WriteBatch batch = new WriteBatch()) {
      long start = records.get(0).offset();
      long from = fresh ? start : timedFrom;
      long untimedTo = from; // untimed records may extend [.., untimedTo) only
      boolean untimedOpen = fresh || timedFrom == next;
      for (LogRecord r : records) {
        long offset = r.offset();
        if (!r.hasAppendTime()) {
          if (!untimedOpen || offset != untimedTo) {
            throw new IllegalArgumentException(
                "Cannot import into "
                    + where()
                    + " of "
                    + b.describe
                    + ": record "
                    + offset
                    + " has no append time but follows a record that has one; this backend"
                    + " keeps 'not recorded' only for the log's first records (see its layout)."
                    + " Nothing of this call was written.");
          }
          untimedTo = offset + 1;
          batch.put(b.logCf, Layout.logKey(sid, offset), sealed(offset, r.payload()));
        } else {
          untimedOpen = false;
          batch.put(
              b.logCf,
              Layout.logKey(sid, offset),
              timed(r.appendedAtMillis(), sealed(offset, r.payload())));
        }
      }
      long end = start + records.size();
      if (fresh) {
        batch.put(b.metaCf, Layout.logFirstKey(sid), Layout.longBytes(start));
      }
      if (untimedTo != from) {
        batch.put(b.metaCf, Layout.logTimedFromKey(sid), Layout.longBytes(untimedTo));
      }
      recordNext(batch, end);
      b.db.write(b.writeOptions(), batch);
      if (untimedTo != from) {
        timedFrom = untimedTo;
      }
      if (fresh) {
        first = start;
      }
      next = end;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Starts this empty log at {@code offset} for an import ({@code Importer.Session#startLog}):
   * first, next and timed-from offsets all {@code offset}, in one batch. Caller checked it is
   * empty.
   */
  void importStart(long offset) throws RocksDBException {
    lock.lock();
    try (WriteBatch batch = new WriteBatch()) {
      batch.put(b.metaCf, Layout.logFirstKey(sid), Layout.longBytes(offset));
      batch.put(b.metaCf, Layout.logTimedFromKey(sid), Layout.longBytes(offset));
      recordNext(batch, offset);
      b.db.write(b.writeOptions(), batch);
      first = offset;
      timedFrom = offset;
      next = offset;
    } finally {
      lock.unlock();
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
