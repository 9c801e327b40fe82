package io.cairn.backend.rocksdb;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.spi.ArgumentChecks;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;

/**
 * A read transaction ({@link RocksDbBackend#readTransaction}): one RocksDB {@link Snapshot} and
 * {@link ReadOptions} pinned to it, used by every read of the work. A snapshot is a sequence number
 * that RocksDB keeps readable; taking it costs nothing and no writer ever waits for it (compaction
 * keeps the versions it needs until it is released). Everything the view needs is read from the
 * snapshot, not from the stores' in-memory state: a log's first and next offsets come from its
 * {@code log-first} and {@code log-next} entries and its last record, exactly as at open (see
 * {@link Layout}), so they agree with the key-value entries of the same instant.
 *
 * <p>The work runs inside the backend's guard, so {@link RocksDbBackend#close()} waits for it to
 * end before freeing native handles. The snapshot is released, and the scan iterators the work
 * opened are closed, when the work ends.
 */
final class RocksReadTransaction implements Transaction.ReadView {
  private final RocksDbBackend b;
  private final ReadOptions readOptions;
  private final long now;
  private final List<ScanIterator> iterators = new ArrayList<>();
  private final Map<String, long[]> logPositions = new HashMap<>();

  private RocksReadTransaction(RocksDbBackend b, ReadOptions readOptions, long now) {
    this.b = b;
    this.readOptions = readOptions;
    this.now = now;
  }

  /** Runs {@code work} on a snapshot of {@code b}. */
  static <T> T run(RocksDbBackend b, Transaction.ReadWork<T> work) {
    Objects.requireNonNull(work, "work");
    if (b.inTransactionHere()) {
      throw new IllegalStateException(
          b.describe
              + ": readTransaction() cannot run inside a transaction; read through its view");
    }
    b.enter();
    try {
      Snapshot snapshot = b.db.getSnapshot();
      try (ReadOptions ro = new ReadOptions().setSnapshot(snapshot)) {
        RocksReadTransaction view = new RocksReadTransaction(b, ro, b.clock.millis());
        try {
          return work.run(view);
        } finally {
          view.end();
        }
      } finally {
        b.db.releaseSnapshot(snapshot);
      }
    } finally {
      b.exit();
    }
  }

  private void end() {
    for (ScanIterator it : iterators) {
      it.close();
    }
    iterators.clear();
  }

  @Override
  public Transaction.KeyValueReader keyValue(String namespace) {
    RocksKvStore store = b.kv(namespace);
    return new Transaction.KeyValueReader() {
      @Override
      public Optional<Entry> getEntry(byte[] key) {
        ArgumentChecks.checkKey(key);
        byte[] stored =
            b.call(
                "get",
                "kv:" + namespace,
                () -> b.db.get(b.kvCf, readOptions, Layout.kvKey(store.sid, key)));
        return store.decode(key, stored, now);
      }

      @Override
      public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
        ScanIterator it = store.scan(fromInclusive, toExclusive, readOptions, now);
        iterators.add(it);
        return it;
      }
    };
  }

  @Override
  public Transaction.LogReader log(String name) {
    RocksLogStore log = b.logStore(name);
    String where = "log:" + name;
    long[] pos =
        logPositions.computeIfAbsent(
            name,
            n -> b.call("open log", where, () -> RocksLogStore.positions(b, log.sid, readOptions)));
    long first = pos[0];
    long next = pos[1];
    return new Transaction.LogReader() {
      @Override
      public List<LogRecord> read(long fromOffset, int maxRecords) {
        ArgumentChecks.checkOffset("fromOffset", fromOffset);
        ArgumentChecks.checkMaxRecords(maxRecords);
        long start = Math.max(fromOffset, first);
        long end = Math.min(next, start + maxRecords);
        List<LogRecord> out = new ArrayList<>((int) Math.max(0, Math.min(end - start, 1024)));
        if (start >= end) {
          return out;
        }
        b.call(
            "read",
            where + " from offset " + start,
            () -> {
              try (RocksIterator it = b.db.newIterator(b.logCf, readOptions)) {
                byte[] stop = Layout.logKey(log.sid, end);
                for (it.seek(Layout.logKey(log.sid, start));
                    it.isValid() && java.util.Arrays.compareUnsigned(it.key(), stop) < 0;
                    it.next()) {
                  long offset = Layout.logOffset(it.key());
                  if (offset != start + out.size()) {
                    break;
                  }
                  out.add(log.record(offset, it.value()));
                }
                it.status();
              }
              return null;
            });
        if (out.size() < end - start) {
          // nothing truncates a snapshot: a missing offset below next is lost data
          throw new StoreCorruptedException(
              b.describe
                  + ", "
                  + where
                  + ": record "
                  + (start + out.size())
                  + " is missing in a read transaction's snapshot (the log holds offsets "
                  + first
                  + " to "
                  + (next - 1)
                  + "). Run 'cairn verify' and restore from a backup.");
        }
        return out;
      }

      @Override
      public long firstOffset() {
        return first;
      }

      @Override
      public long nextOffset() {
        return next;
      }
    };
  }
}
