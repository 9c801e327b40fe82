package io.cairn.persistence.spi;

import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The log of every {@link EngineBackend}: records {@code 'T' | append time (8-byte big-endian epoch
 * millis from the context clock) | sealed payload} under their 8-byte big-endian offset (records
 * written before the append time was stored are {@code 'L' | sealed payload} and read with {@link
 * LogRecord#NOT_RECORDED}; both are read, only 'T' is written; the time is outside the seal, so
 * with encryption it is covered by the frame's CRC or the engine's checksum, not by the AEAD tag),
 * and the position record {@code 'P' | first | next} under the empty key, written in the same batch
 * as the records it covers. Readers read the position from the engine (the batch is atomic for
 * them, so a reader that saw another write of the same transaction sees its records too, and never
 * a gap below next); writers use a cached copy that only they change.
 *
 * <p>Writers of one log follow each other: every write of the log (append, truncation, deleting
 * truncated records) holds the log's write stripe ({@link WriteOrder#store}), transactions and
 * imports the write gate exclusively, and each calls {@link StorageEngine#write} before releasing
 * it. So the batch with offset n has returned from the engine, and is visible to every read that
 * starts afterwards, before the batch with n + 1 is even built; and since a batch carries its
 * records with the position that covers them, a reader that sees next = n + 1 sees every record
 * below it. A reader therefore never sees a gap that later fills: offsets become visible in order,
 * with their records. Different logs (and key-value writes) reach the engine concurrently when it
 * {@link StorageEngine#concurrentWrites() opts in}.
 */
final class BaseLogStore implements LogStore {
  private static final byte[] POSITION_KEY = new byte[0];

  private final EngineBackend b;
  private final String name;
  final StoreId id;
  // the writers' copy of the position (guarded by this log's write stripe; a transaction or an
  // import holds the write gate exclusively)
  private boolean loaded;
  private long first;
  private long next;
  // whether the log's catalog entry is stored (it goes with the first position: StoreCatalog)
  private boolean catalogued;
  // offsets below this hold no record: dropped by this instance (0 after open, since a crash may
  // have left records below the first offset). A drop starts here instead of at offset 0, so it
  // does not walk again what earlier drops deleted (an engine like RocksDB keeps a tombstone per
  // deleted key until compaction, and a queue truncates its log all the time). Same guard as above.
  private long droppedBelow;

  BaseLogStore(EngineBackend backend, String name) {
    this.b = backend;
    this.name = name;
    this.id = new StoreId(StoreKind.LOG, name);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long append(byte[] payload) {
    ArgumentChecks.checkPayload(payload);
    return appendChecked(List.of(payload));
  }

  @Override
  public long appendAll(List<byte[]> payloads) {
    Objects.requireNonNull(payloads, "payloads");
    for (byte[] p : payloads) {
      ArgumentChecks.checkPayload(p);
    }
    if (payloads.isEmpty()) {
      return nextOffset();
    }
    return appendChecked(List.copyOf(payloads));
  }

  private long appendChecked(List<byte[]> payloads) {
    return b.writeStore(
        "append to",
        this,
        id,
        () -> {
          load();
          long start = next;
          List<StorageEngine.Write> batch = new ArrayList<>(payloads.size() + 2);
          long end = records(start, payloads, batch);
          addPosition(first, end, batch);
          b.commit(batch);
          next = end;
          catalogued = true;
          return start;
        });
  }

  @Override
  public List<LogRecord> read(long fromOffset, int maxRecords) {
    ArgumentChecks.checkOffset("fromOffset", fromOffset);
    ArgumentChecks.checkMaxRecords(maxRecords);
    return read(b.current, fromOffset, maxRecords);
  }

  /**
   * Records from {@code fromOffset} as {@code reader} holds them; arguments checked by the caller.
   * On a snapshot nothing truncates meanwhile, so a gap there is always reported as lost records.
   */
  List<LogRecord> read(EngineReader reader, long fromOffset, int maxRecords) {
    return b.read(
        () -> {
          while (true) {
            List<LogRecord> out = readOnce(reader, fromOffset, maxRecords);
            if (out != null) {
              return out;
            }
            // a gap appeared because a truncation removed records while we read: read again
          }
        });
  }

  /** One read attempt; null if a concurrent truncation removed records it was reading. */
  private List<LogRecord> readOnce(EngineReader reader, long fromOffset, int maxRecords) {
    long[] position = stored(reader); // read the bound first: everything below it is stored
    long end = position[1];
    long start = Math.max(fromOffset, position[0]);
    if (start >= end) {
      return List.of();
    }
    int limit = (int) Math.min(maxRecords, end - start);
    List<StorageEngine.Record> page = reader.range(id, key(start), key(end), limit);
    List<LogRecord> out = new ArrayList<>(page.size());
    long expected = start;
    for (StorageEngine.Record r : page) {
      long offset = offsetOf(r.key());
      if (offset != expected) {
        if (stored(reader)[0] > expected) {
          return null;
        }
        throw b.frame.corrupt(
            id,
            "offset " + expected,
            "is missing (the next stored record is "
                + offset
                + "), although offsets are gap-free: records were lost");
      }
      out.add(open(offset, r.value()));
      expected++;
    }
    if (out.size() < limit) {
      if (stored(reader)[0] > expected) {
        return null;
      }
      throw b.frame.corrupt(
          id, "offset " + expected, "is missing below next offset " + end + ": records were lost");
    }
    return out;
  }

  @Override
  public long firstOffset() {
    return b.read(() -> stored()[0]);
  }

  @Override
  public long nextOffset() {
    return b.read(() -> stored()[1]);
  }

  @Override
  public long truncateBefore(long offset) {
    ArgumentChecks.checkOffset("truncateBefore offset", offset);
    long removed =
        b.writeStore(
            "truncateBefore on",
            this,
            id,
            () -> {
              load();
              long target = Math.min(offset, next);
              if (target <= first) {
                return 0L;
              }
              long gone = target - first;
              List<StorageEngine.Write> batch = new ArrayList<>(2);
              addPosition(target, next, batch);
              b.commit(batch); // the commit point
              first = target;
              catalogued = true;
              return gone;
            });
    if (removed > 0) {
      dropTruncated();
    }
    return removed;
  }

  @Override
  public String toString() {
    return "log '" + name + "' of " + b;
  }

  // ---- shared with the transaction view and the backend ----

  /** {first, next} as stored now; {0, 0} for a log never appended to. */
  private long[] stored() {
    return stored(b.current);
  }

  /**
   * {first, next} as {@code reader} holds them; {0, 0} for a log never appended to. A log whose
   * catalog entry is stored without its position was lost: {@link StoreCatalog#lost}.
   */
  long[] stored(EngineReader reader) {
    byte[] raw = positionRecord(reader);
    return raw == null ? new long[2] : decodePosition(raw);
  }

  /**
   * The stored position record, or null for a log never written; throws {@link StoreCatalog#lost}
   * for a log whose catalog entry is stored without it.
   */
  private byte[] positionRecord(EngineReader reader) {
    byte[] raw = reader.get(id, POSITION_KEY);
    if (raw == null && StoreCatalog.logRecorded(b, reader, name)) {
      // the entry and the first position are one batch: a first append may have landed between
      raw = reader.get(id, POSITION_KEY);
      if (raw == null) {
        throw StoreCatalog.lost(b, id);
      }
    }
    return raw;
  }

  private long[] decodePosition(byte[] raw) {
    ByteBuffer body = b.frame.open(RecordFrame.POSITION, id, POSITION_KEY, raw, "the position");
    if (body.remaining() != 16) {
      throw b.frame.corrupt(id, "the position", "has the wrong length");
    }
    long f = body.getLong();
    long n = body.getLong();
    if (f < 0 || n < f) {
      throw b.frame.corrupt(id, "the position", "records first " + f + " > next " + n);
    }
    return new long[] {f, n};
  }

  /** Loads the writers' copy of the position once. Caller holds the log's write stripe. */
  void load() {
    if (!loaded) {
      byte[] raw = positionRecord(b.current);
      long[] p = raw == null ? new long[2] : decodePosition(raw);
      first = p[0];
      next = p[1];
      catalogued = raw != null; // a position implies the entry (written with the first one)
      loaded = true;
    }
  }

  /** Next offset as a transaction holding the write gate exclusively sees it. */
  long nextUnlocked() {
    load();
    return next;
  }

  /**
   * Adds the writes for {@code payloads} from {@code start} to {@code batch}; returns the offset
   * after them. Caller holds the log's write stripe.
   */
  long records(long start, List<byte[]> payloads, List<StorageEngine.Write> batch) {
    long at = b.now(); // one instant for the batch: its records are appended together
    long offset = start;
    for (byte[] p : payloads) {
      batch.add(record(offset, p, at));
      offset++;
    }
    return offset;
  }

  /**
   * The write storing {@code payload} at {@code offset} with append time {@code at}; an imported
   * record whose time was not recorded ({@link LogRecord#NOT_RECORDED}) keeps the untimed frame.
   */
  StorageEngine.Write record(long offset, byte[] payload, long at) {
    byte[] sealed = b.sealer.sealPayload(name, offset, payload);
    byte[] k = key(offset);
    return new StorageEngine.Write(id, k, b.frame.logRecord(at, sealed, id, k));
  }

  /**
   * Adds the position write for a transaction that appended up to {@code end} (and the log's
   * catalog entry with its first position) to {@code batch}.
   */
  void addPositionAt(long end, List<StorageEngine.Write> batch) {
    addPosition(first, end, batch);
  }

  /** First offset as a writer holding the log's write stripe sees it. */
  long firstUnlocked() {
    load();
    return first;
  }

  /**
   * Adds the position writes of an import that makes the log {@code [f, n)} to {@code batch}.
   * Caller holds the lock.
   */
  void addImported(long f, long n, List<StorageEngine.Write> batch) {
    load();
    addPosition(f, n, batch);
  }

  /**
   * Publishes an imported position after its batch committed. Caller holds the write gate
   * exclusively.
   */
  void published(long f, long n) {
    first = f;
    next = n;
    loaded = true;
    catalogued = true;
    droppedBelow = 0; // the import may have written records anywhere
  }

  /**
   * Publishes {@code end} after a transaction's batch committed. Caller holds the write gate
   * exclusively.
   */
  void published(long end) {
    next = end;
    catalogued = true;
  }

  /**
   * Adds the position {@code [f, n)} to {@code batch}, with the log's catalog entry if this is its
   * first position ({@link StoreCatalog}). Caller holds the log's write stripe, having loaded.
   */
  private void addPosition(long f, long n, List<StorageEngine.Write> batch) {
    batch.add(position(f, n));
    if (!catalogued) {
      batch.add(StoreCatalog.logEntry(b.frame, name));
    }
  }

  private StorageEngine.Write position(long f, long n) {
    ByteBuffer buf = b.frame.begin(RecordFrame.POSITION, 16);
    buf.putLong(f).putLong(n);
    return new StorageEngine.Write(id, POSITION_KEY, b.frame.end(buf, id, POSITION_KEY));
  }

  private LogRecord open(long offset, byte[] raw) {
    ByteBuffer body = body(key(offset), offset, raw);
    long at = timed(raw) ? appendTime(body, offset) : LogRecord.NOT_RECORDED;
    byte[] sealed = new byte[body.remaining()];
    body.get(sealed);
    return new LogRecord(offset, b.sealer.openPayload(name, offset, sealed), at);
  }

  /** The message place of the record under engine key {@code key} (its offset). */
  private static String whereOfKey(byte[] key) {
    return key.length == 8
        ? "offset " + ByteBuffer.wrap(key).getLong()
        : "engine key " + Bytes.toDisplay(key, false);
  }

  private static boolean timed(byte[] raw) {
    return raw.length > 0 && raw[0] == RecordFrame.LOG_TIMED;
  }

  /** The checked body of a stored record of either tag. */
  private ByteBuffer body(byte[] key, long offset, byte[] raw) {
    byte tag = timed(raw) ? RecordFrame.LOG_TIMED : RecordFrame.LOG;
    return b.frame.open(tag, id, key, raw, BaseLogStore::whereOfKey);
  }

  private long appendTime(ByteBuffer body, long offset) {
    if (body.remaining() < 8) {
      throw b.frame.corrupt(id, "offset " + offset, "is too short for its append time");
    }
    long at = body.getLong();
    if (at < 0) {
      throw b.frame.corrupt(id, "offset " + offset, "records a negative append time " + at);
    }
    return at;
  }

  /**
   * The record {@code raw} under {@code key} with its payload sealed with the primary key, or null
   * when it is the position record or sealed with the primary already. Records below the first
   * offset (left by a crashed truncation, never read) are re-sealed too, so no old key stays.
   */
  /** Whether {@code key} is the log's position record (the empty key) rather than a record's. */
  static boolean isPosition(byte[] key) {
    return key.length == 0;
  }

  byte[] resealed(byte[] key, byte[] raw) {
    if (isPosition(key)) {
      return null; // the position: offsets in clear, nothing sealed
    }
    long offset = offsetOf(key);
    boolean timed = timed(raw);
    ByteBuffer body = body(key, offset, raw);
    long at = timed ? appendTime(body, offset) : LogRecord.NOT_RECORDED;
    byte[] sealed = new byte[body.remaining()];
    body.get(sealed);
    if (!b.sealer.needsReseal(sealed)) {
      return null;
    }
    byte[] fresh = b.sealer.resealPayload(name, offset, sealed);
    // keep the record's tag: an old record stays "time not recorded" rather than gain a false one
    return b.frame.logRecord(at, fresh, id, key);
  }

  /** Deletes records below the first offset, a page at a time (after truncation or a crash). */
  void dropTruncated() {
    while (true) {
      boolean more =
          b.writeStore(
              "truncateBefore on",
              this,
              id,
              () -> {
                load();
                if (droppedBelow >= first) {
                  return false;
                }
                List<StorageEngine.Record> page =
                    b.engine().range(id, key(droppedBelow), key(first), EngineBackend.page());
                List<StorageEngine.Write> batch = new ArrayList<>();
                for (StorageEngine.Record r : page) {
                  batch.add(new StorageEngine.Write(id, r.key(), null));
                }
                b.commit(batch);
                boolean full = page.size() == EngineBackend.page();
                droppedBelow = full ? offsetOf(page.get(page.size() - 1).key()) + 1 : first;
                return full;
              });
      if (!more) {
        return;
      }
    }
  }

  StoreStats stats() {
    long[] p = stored();
    return new StoreStats(id, p[1] - p[0], -1);
  }

  /** Checks gap-free records in [first, next), nothing at or past next; returns records checked. */
  long verify(List<String> problems) {
    long[] p = stored();
    long f = p[0];
    long n = p[1];
    long expected = f;
    long checked = 0;
    byte[] from = key(f);
    while (true) {
      List<StorageEngine.Record> page = b.engine().range(id, from, null, EngineBackend.page());
      for (StorageEngine.Record r : page) {
        long offset = offsetOf(r.key());
        if (offset >= n) {
          problems.add(this + ": a record at offset " + offset + " lies at or past next " + n);
          return checked;
        }
        if (offset != expected) {
          problems.add(this + ": offsets " + expected + " to " + (offset - 1) + " are missing");
        }
        try {
          open(offset, r.value());
        } catch (RuntimeException e) {
          problems.add(e.getMessage());
        }
        expected = offset + 1;
        checked++;
      }
      if (page.size() < EngineBackend.page()) {
        break;
      }
      from = key(expected);
    }
    if (expected < n) {
      problems.add(this + ": offsets " + expected + " to " + (n - 1) + " are missing");
    }
    return checked;
  }

  static byte[] key(long offset) {
    return ByteBuffer.allocate(8).putLong(offset).array();
  }

  private long offsetOf(byte[] key) {
    if (key.length != 8) {
      throw b.frame.corrupt(id, "a record key", "is " + key.length + " bytes, not 8");
    }
    return ByteBuffer.wrap(key).getLong();
  }
}
