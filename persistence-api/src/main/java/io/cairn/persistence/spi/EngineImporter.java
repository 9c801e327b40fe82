package io.cairn.persistence.spi;

import io.cairn.persistence.Entry;
import io.cairn.persistence.Importer;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@link Importer} of every {@link EngineBackend}. Each call is one engine batch written at
 * {@link Durability#FULL} (at {@code NONE} on a backend opened with durability none, whose engine
 * need not honour more), so a session is durable call by call and {@link Session#finish()} has
 * nothing left to flush; built with the stores' own framing and sealing: an imported entry or
 * record is stored exactly as if the store had written it, with the source's version, expiry,
 * offset and append time. The batch of imported entries also raises the bound of the backend's
 * {@link VersionSequence} above the highest version it carries.
 */
final class EngineImporter implements Importer {
  private final EngineBackend b;

  EngineImporter(EngineBackend backend) {
    this.b = backend;
  }

  @Override
  public Session begin() {
    return new EngineSession();
  }

  private final class EngineSession implements Session {
    // stores this session checked empty and started; for logs the next offset expected
    private final Map<StoreId, Long> started = new HashMap<>();
    private boolean closed;

    @Override
    public void putEntries(String namespace, List<Entry> entries) {
      open();
      long highest = ImportChecks.entries(b, namespace, entries);
      if (highest > VersionSequence.MAX_IMPORTED) {
        throw ImportChecks.refused(
            "kv:" + namespace,
            b,
            "version "
                + highest
                + " is above "
                + VersionSequence.MAX_IMPORTED
                + ", the highest this backend imports (later versions need room above it)",
            null);
      }
      BaseKeyValueStore store = b.kvStore(namespace);
      b.writeAll(
          "import into kv:" + namespace,
          () -> {
            // an earlier call of this session may have written a key again: its index record goes
            boolean empty = !started.containsKey(store.id);
            requireEmpty(store.id);
            List<StorageEngine.Write> batch = new ArrayList<>(entries.size());
            for (Entry e : entries) {
              store.putWrites(
                  e.key(),
                  empty ? null : store.stored(e.key()),
                  new BaseKeyValueStore.Stored(
                      e.version(), e.expiresAtMillis(), store.seal(e.key(), e.value())),
                  batch);
            }
            // the version bound goes in the same batch: later versions are above every imported one
            b.versions().writeAbove(batch, highest, b.importDurability());
            return null;
          });
    }

    @Override
    public void appendRecords(String log, List<LogRecord> records) {
      open();
      Long expected = started.get(new StoreId(StoreKind.LOG, log));
      ImportChecks.records(b, log, records, expected == null ? -1 : expected);
      if (records.isEmpty()) {
        return;
      }
      BaseLogStore store = b.logStore(log);
      b.writeAll(
          "import into log:" + log,
          () -> {
            requireEmpty(store.id);
            long first = records.get(0).offset();
            List<StorageEngine.Write> batch = new ArrayList<>(records.size() + 1);
            for (LogRecord r : records) {
              batch.add(store.record(r.offset(), r.payload(), r.appendedAtMillis()));
            }
            long next = first + records.size();
            long logFirst = expected == null || expected < 0 ? first : store.firstUnlocked();
            store.addImported(logFirst, next, batch);
            b.engine().write(batch, b.importDurability());
            store.published(logFirst, next);
            started.put(store.id, next);
            return null;
          });
    }

    @Override
    public void startLog(String log, long offset) {
      open();
      StoreId id = new StoreId(StoreKind.LOG, log);
      ImportChecks.logStart(b, log, offset, started.containsKey(id));
      BaseLogStore store = b.logStore(log);
      b.writeAll(
          "import into log:" + log,
          () -> {
            requireEmpty(store.id);
            List<StorageEngine.Write> batch = new ArrayList<>(2);
            store.addImported(offset, offset, batch);
            b.engine().write(batch, b.importDurability());
            store.published(offset, offset);
            started.put(store.id, offset);
            return null;
          });
    }

    @Override
    public SnapshotInfo saveSnapshot(
        String set, long version, long createdAtMillis, InputStream data) {
      open();
      ImportChecks.snapshot(b, set, version, createdAtMillis, data);
      BaseSnapshotStore store = b.snapshotStore(set);
      b.writeAll(
          "import into snapshot:" + set,
          () -> {
            requireEmpty(store.id);
            return null;
          });
      return store.save(version, data, createdAtMillis); // its manifest is written at FULL
    }

    @Override
    public void finish() {
      open();
      closed = true; // every call was written at FULL: nothing left to make durable
    }

    @Override
    public void close() {
      closed = true;
    }

    private void open() {
      if (closed) {
        throw new IllegalStateException("This import session of " + b + " has ended");
      }
    }

    /**
     * Checks once per session that {@code id} holds nothing. Caller holds the write gate
     * exclusively (no other write runs).
     */
    private void requireEmpty(StoreId id) {
      if (started.containsKey(id)) {
        return;
      }
      if (!b.engine().range(id, new byte[0], null, 1).isEmpty()) {
        throw new IllegalStateException(
            "Cannot import into "
                + id.kind().shortName()
                + ":"
                + id.name()
                + " of "
                + b
                + ": the store is not empty. Import only into empty stores (a fresh backend);"
                + " nothing was written to it.");
      }
      started.put(id, -1L);
    }
  }
}
