package io.cairn.backend.rocksdb;

import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.Importer;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.ImportChecks;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.rocksdb.FlushOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * The {@link Importer} of a {@link RocksDbBackend}: writes entries, records and snapshots with the
 * source's versions, expiry instants, offsets, append times and creation times, through the stores'
 * own framing and sealing, so an imported item is stored byte for byte as the store would have
 * written it (layout version {@value Layout#LAYOUT_VERSION}, see {@link Layout}) and reads, {@code
 * verify} and {@code reseal} treat it like any other.
 *
 * <h2>Rules</h2>
 *
 * <ul>
 *   <li><b>Arguments first.</b> Every call checks its store name and all of its items (key, value
 *       and payload sizes, versions, offsets, times) before it writes anything, and throws {@link
 *       IllegalArgumentException} naming the backend, the store and the item.
 *   <li><b>Only into empty stores.</b> The first call of a session on a store checks that it holds
 *       nothing: for a key-value store no entry (expired ones included), for a log no offset ever
 *       used ({@code first = next = 0}), for a snapshot set no snapshot. Otherwise {@link
 *       IllegalStateException} naming backend and store, nothing written.
 *   <li><b>One WriteBatch per call</b> for entries and records, written with the backend's write
 *       options (the normal write path's). Entries: each as {@link RocksKvStore#putImported} frames
 *       it (plus its expiry-index entry), and {@code next-version} raised above the highest
 *       imported version in the same batch ({@link RocksCatalog#writeAbove}), so every later
 *       store-API write gets a greater version, also after a crash. Records: as {@link
 *       RocksLogStore#importRecords} frames them, with {@code log-next}, and at the first call
 *       {@code log-first} (the first imported offset; the offsets below count as truncated). A
 *       snapshot is saved by {@link RocksSnapshotStore#save(long, InputStream, long)}: chunks
 *       first, visible only with its one metadata batch, so it is atomic too.
 *   <li><b>Exclusion.</b> Entry and record calls hold the backend's transaction lock exclusively
 *       from the emptiness check to the write (a short stop for the backend's other writers);
 *       snapshot saves, which read a stream of any length, do not, so the contract's rule that no
 *       other writer writes the stores being imported matters for them. A call inside {@code
 *       inTransaction} on the same thread is refused: its writes would bypass the transaction.
 *   <li><b>Durable at finish.</b> {@link Session#finish()} syncs the WAL ({@code normal}; at {@code
 *       full} every write was synced already) or, at {@code none} (no WAL), flushes the memtables
 *       of every column family (atomic flush), so after it returns everything the session wrote
 *       survives a crash.
 * </ul>
 */
final class RocksImporter implements Importer {
  /**
   * Imported versions must leave room for later ones: the sequence goes on from above the highest
   * imported version, in blocks.
   */
  static final long MAX_VERSION = Long.MAX_VALUE / 2;

  private final RocksDbBackend b;

  RocksImporter(RocksDbBackend backend) {
    this.b = backend;
  }

  @Override
  public Session begin() {
    b.checkOpen();
    return new RocksSession();
  }

  private final class RocksSession implements Session {
    // stores this session checked empty; for logs the next offset expected (-1 before the first)
    private final Map<StoreId, Long> started = new HashMap<>();
    private boolean closed;

    @Override
    public void putEntries(String namespace, List<Entry> entries) {
      open();
      long top = ImportChecks.entries(b.describe, namespace, entries);
      if (top > MAX_VERSION) {
        throw ImportChecks.refused(
            "kv:" + namespace,
            b.describe,
            "version " + top + " is above " + MAX_VERSION + ", the highest this backend imports",
            null);
      }
      RocksKvStore store = b.kv(namespace);
      StoreId id = new StoreId(StoreKind.KEY_VALUE, namespace);
      exclusive(
          "kv:" + namespace,
          () -> {
            requireEmpty(id, () -> !b.hasAny(b.kvCf, store.sid));
            if (entries.isEmpty()) {
              return;
            }
            try (WriteBatch batch = new WriteBatch()) {
              for (Entry e : entries) {
                store.putImported(batch, e);
              }
              b.catalog.writeAbove(batch, top);
            }
          });
    }

    @Override
    public void appendRecords(String log, List<LogRecord> records) {
      open();
      StoreId id = new StoreId(StoreKind.LOG, log);
      Long expected = started.get(id);
      ImportChecks.records(b.describe, log, records, expected == null ? -1 : expected);
      if (records.isEmpty()) {
        return;
      }
      RocksLogStore store = b.logStore(log);
      exclusive(
          "log:" + log,
          () -> {
            requireEmpty(id, store::neverWritten);
            boolean startsTheLog = started.get(id) < 0; // set to -1 by requireEmpty
            long next = records.get(0).offset() + records.size();
            store.importRecords(records, startsTheLog);
            started.put(id, next);
          });
    }

    @Override
    public void startLog(String log, long offset) {
      open();
      StoreId id = new StoreId(StoreKind.LOG, log);
      ImportChecks.logStart(b.describe, log, offset, started.containsKey(id));
      RocksLogStore store = b.logStore(log);
      exclusive(
          "log:" + log,
          () -> {
            requireEmpty(id, store::neverWritten);
            store.importStart(offset);
            started.put(id, offset);
          });
    }

    @Override
    public SnapshotInfo saveSnapshot(
        String set, long version, long createdAtMillis, InputStream data) {
      open();
      ImportChecks.snapshot(b.describe, set, version, createdAtMillis, data);
      RocksSnapshotStore store = (RocksSnapshotStore) b.snapshots(set);
      requireEmpty(new StoreId(StoreKind.SNAPSHOT, set), () -> !b.hasAny(b.snapCf, store.sid));
      return store.save(version, data, createdAtMillis);
    }

    @Override
    public void finish() {
      open();
      closed = true;
      b.call(
          "finish import",
          "the stores of the import",
          () -> {
            if (b.durability() == Durability.NONE) {
              try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
                b.db.flush(fo, b.allCfs);
              }
            } else if (b.durability() == Durability.NORMAL) {
              b.db.flushWal(true);
            }
            return null;
          });
    }

    @Override
    public void close() {
      closed = true;
    }

    private void open() {
      if (closed) {
        throw new IllegalStateException("This import session of " + b.describe + " has ended");
      }
    }

    /** Checks once per session, at its first import, that the store {@code id} is empty. */
    private void requireEmpty(StoreId id, BooleanSupplier empty) {
      if (started.containsKey(id)) {
        return;
      }
      if (!empty.getAsBoolean()) {
        throw new IllegalStateException(
            "Cannot import into "
                + id.kind().shortName()
                + ":"
                + id.name()
                + " of "
                + b.describe
                + ": the store is not empty. Import only into empty stores (a fresh backend);"
                + " nothing was written to it.");
      }
      started.put(id, -1L);
    }

    /** Runs {@code work} inside the guard holding the transaction lock exclusively. */
    private void exclusive(String where, Work work) {
      if (b.inTransactionHere()) {
        throw new IllegalStateException(
            "Cannot import into "
                + where
                + " of "
                + b.describe
                + " inside a transaction of the same backend: the import would bypass it");
      }
      b.enter();
      try {
        b.txLock.lockExclusive();
        try {
          work.run();
        } catch (RocksDBException e) {
          throw b.failure(e, "import", where);
        } finally {
          b.txLock.unlockExclusive();
        }
      } finally {
        b.exit();
      }
    }
  }

  private interface Work {
    void run() throws RocksDBException;
  }
}
