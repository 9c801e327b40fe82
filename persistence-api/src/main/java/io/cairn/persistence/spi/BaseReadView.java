package io.cairn.persistence.spi;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.Transaction;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The view of {@link EngineBackend#readTransaction}: every read goes through the base stores' own
 * read code ({@link BaseKeyValueStore#live}, its scan, {@link BaseLogStore#read}), pointed at one
 * {@link StorageEngine.Snapshot} and one instant for expiry, so framing, checksums, opening sealed
 * values and gap checks are exactly those of the stores. Each read is also a call in flight of the
 * backend: after close it throws {@link io.cairn.persistence.BackendClosedException}.
 *
 * <p>Valid only on the thread running the work and until it ends ({@link #end()}): other use throws
 * {@link IllegalStateException}, also through readers and scans handed out.
 */
final class BaseReadView implements Transaction.ReadView {
  private final EngineBackend b;
  private final StorageEngine.Snapshot snapshot;
  private final EngineReader reader;
  private final long now;
  private final List<CloseableIterator<Entry>> scans = new ArrayList<>();
  private volatile Thread owner = Thread.currentThread();

  BaseReadView(EngineBackend backend, StorageEngine.Snapshot snapshot, long now) {
    this.b = backend;
    this.snapshot = snapshot;
    this.reader = EngineReader.of(snapshot);
    this.now = now;
  }

  @Override
  public Transaction.KeyValueReader keyValue(String namespace) {
    check();
    BaseKeyValueStore store = b.kvStore(namespace);
    return new Transaction.KeyValueReader() {
      @Override
      public Optional<Entry> getEntry(byte[] key) {
        check();
        ArgumentChecks.checkKey(key);
        return b.read(() -> Optional.ofNullable(store.entry(key, store.live(reader, key, now))));
      }

      @Override
      public CloseableIterator<Entry> scan(byte[] fromInclusive, byte[] toExclusive) {
        check();
        CloseableIterator<Entry> it = store.scan(reader, now, fromInclusive, toExclusive);
        scans.add(it);
        return GuardedIterator.of(it, BaseReadView.this::check);
      }
    };
  }

  @Override
  public Transaction.LogReader log(String name) {
    check();
    BaseLogStore log = b.logStore(name);
    return new Transaction.LogReader() {
      @Override
      public List<LogRecord> read(long fromOffset, int maxRecords) {
        check();
        ArgumentChecks.checkOffset("fromOffset", fromOffset);
        ArgumentChecks.checkMaxRecords(maxRecords);
        return log.read(reader, fromOffset, maxRecords);
      }

      @Override
      public long firstOffset() {
        check();
        return b.read(() -> log.stored(reader)[0]);
      }

      @Override
      public long nextOffset() {
        check();
        return b.read(() -> log.stored(reader)[1]);
      }
    };
  }

  /** The work ended: closes the scans it left open and the snapshot; every later use throws. */
  void end() {
    owner = null;
    try {
      for (CloseableIterator<Entry> it : scans) {
        it.close();
      }
      scans.clear();
    } finally {
      snapshot.close();
    }
  }

  private void check() {
    Thread o = owner;
    if (o != Thread.currentThread()) {
      throw new IllegalStateException(
          o == null
              ? "a read transaction's view of "
                  + b
                  + " was used after its work ended; use it only inside the work"
              : "a read transaction's view of "
                  + b
                  + " was used on thread '"
                  + Thread.currentThread().getName()
                  + "', not the one running its work ('"
                  + o.getName()
                  + "'); start a read transaction on each thread");
    }
  }
}
