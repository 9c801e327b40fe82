package io.cairn.persistence.spi;

import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The base's catalog of every log and snapshot set it ever wrote, so that a store lost whole — its
 * records and its position or manifests gone from the engine together — is named, not taken for a
 * store that was never written. Without it a lost log would read as empty and its next append would
 * hand out offset 0 again, offsets its consumers already processed; a lost snapshot set would list
 * nothing. A lost key-value namespace cannot be told from an emptied one (deleting every key is
 * legitimate), so namespaces are not catalogued.
 *
 * <h2>Layout (in the base's reserved store {@code (KEY_VALUE, "_cairn")}, see {@link ExpiryIndex})
 * </h2>
 *
 * <pre>
 *   "log:" + L           'G'                  log L was written (its first position record was)
 *   "snapshot:" + S      'G' | count i64      snapshot set S holds count snapshots (manifests)
 *   "store-catalog"      'F' | format i32 (1) the catalog is complete (the build's commit point)
 * </pre>
 *
 * <h2>Rules</h2>
 *
 * <ul>
 *   <li>A log's entry is written in the same engine batch as the log's first position record
 *       (append, truncation, transaction or import), so a log has a position exactly when it has an
 *       entry; the position is never deleted afterwards. A log with an entry and no position was
 *       lost: reading it or writing it throws {@link StoreCorruptedException} (a read re-reads the
 *       position after seeing the entry, because both appear in one batch), and {@code verify}
 *       names it.
 *   <li>A snapshot set's count is rewritten in the batch of every manifest that adds a version and
 *       every deletion of one, under the set's write stripe; {@code verify} compares it with the
 *       manifests stored.
 *   <li>Built once at open when the marker is absent (data written before the catalog existed, or a
 *       fresh engine): an entry for every log that holds any record, a count for every set, then
 *       the marker, at {@code FULL} unless the backend runs at {@code NONE}. A crash before the
 *       marker rebuilds at the next open (every write of the build is an overwrite). Data written
 *       again by a Cairn older than the catalog (a downgrade) leaves stores without entries: {@code
 *       verify} names them, nothing else refuses them.
 * </ul>
 */
final class StoreCatalog {
  private static final Logger LOG = LoggerFactory.getLogger(StoreCatalog.class);

  static final byte[] MARKER = "store-catalog".getBytes(StandardCharsets.US_ASCII);
  static final int FORMAT = 1;
  private static final String LOG_PREFIX = "log:";
  private static final String SET_PREFIX = "snapshot:";

  private StoreCatalog() {}

  static byte[] logKey(String log) {
    return (LOG_PREFIX + log).getBytes(StandardCharsets.UTF_8);
  }

  static byte[] setKey(String set) {
    return (SET_PREFIX + set).getBytes(StandardCharsets.UTF_8);
  }

  /** The entry recording that {@code log} was written; goes with the log's first position. */
  static StorageEngine.Write logEntry(RecordFrame frame, String log) {
    byte[] k = logKey(log);
    return new StorageEngine.Write(
        ExpiryIndex.META, k, frame.end(frame.begin(RecordFrame.CATALOG, 0), ExpiryIndex.META, k));
  }

  /** Whether {@code reader} holds the entry of {@code log}. */
  static boolean logRecorded(EngineBackend b, EngineReader reader, String log) {
    byte[] k = logKey(log);
    byte[] raw = reader.get(ExpiryIndex.META, k);
    if (raw == null) {
      return false;
    }
    b.frame.open(RecordFrame.CATALOG, ExpiryIndex.META, k, raw, "the catalog entry of log " + log);
    return true;
  }

  /** The write setting the snapshot count of {@code set}. */
  static StorageEngine.Write setCount(RecordFrame frame, String set, long count) {
    byte[] k = setKey(set);
    ByteBuffer body = frame.begin(RecordFrame.CATALOG, 8).putLong(count);
    return new StorageEngine.Write(ExpiryIndex.META, k, frame.end(body, ExpiryIndex.META, k));
  }

  /** The snapshot count recorded for {@code set}, 0 if none. Caller holds the set's stripe. */
  static long setCount(EngineBackend b, String set) {
    byte[] k = setKey(set);
    byte[] raw = b.engine().get(ExpiryIndex.META, k);
    return raw == null ? 0 : count(b, k, raw);
  }

  private static long count(EngineBackend b, byte[] key, byte[] raw) {
    ByteBuffer body =
        b.frame.open(RecordFrame.CATALOG, ExpiryIndex.META, key, raw, "a snapshot count");
    if (body.remaining() != 8) {
      throw b.frame.corrupt(ExpiryIndex.META, "a snapshot count", "has the wrong length");
    }
    return body.getLong();
  }

  /** The message of a log that has a catalog entry and no position. */
  static StoreCorruptedException lost(EngineBackend b, StoreId log) {
    return b.frame.corrupt(
        log,
        "the position record",
        "is gone although the base's catalog records that this log was written: the log was"
            + " lost (its records and position vanished from the engine); nothing was written");
  }

  /** Builds the catalog if its marker is absent (see the rules above); called once at open. */
  static void ensureBuilt(EngineBackend b) {
    StorageEngine engine = b.engine();
    byte[] marker = engine.get(ExpiryIndex.META, MARKER);
    if (marker != null) {
      int format =
          b.frame
              .open(RecordFrame.FORMAT, ExpiryIndex.META, MARKER, marker, "the catalog marker")
              .getInt();
      if (format != FORMAT) {
        throw new StoreCorruptedException(
            b
                + ": the store catalog has format "
                + format
                + ", this version of Cairn reads format "
                + FORMAT
                + "; open it with the version that wrote it");
      }
      return;
    }
    List<StorageEngine.Write> batch = new ArrayList<>();
    int logs = 0;
    int sets = 0;
    for (StoreId id : engine.stores()) {
      if (ExpiryIndex.reserved(id)) {
        continue;
      }
      if (id.kind() == StoreKind.LOG) {
        batch.add(logEntry(b.frame, id.name()));
        logs++;
      } else if (id.kind() == StoreKind.SNAPSHOT) {
        batch.add(setCount(b.frame, id.name(), b.snapshotStore(id.name()).manifestCount()));
        sets++;
      }
      if (batch.size() >= EngineBackend.page()) {
        b.commit(batch);
        batch = new ArrayList<>();
      }
    }
    ByteBuffer body = b.frame.begin(RecordFrame.FORMAT, 4).putInt(FORMAT);
    batch.add(
        new StorageEngine.Write(
            ExpiryIndex.META, MARKER, b.frame.end(body, ExpiryIndex.META, MARKER)));
    engine.write(batch, b.importDurability());
    if (logs + sets > 0) {
      LOG.info(
          "{}: built the store catalog once (data written before it existed): {} logs, {}"
              + " snapshot sets",
          b,
          logs,
          sets);
    }
  }

  /**
   * Adds to {@code problems} every catalogued store that is gone or disagrees with the data, and
   * every log or set holding data without an entry; {@code users} are the engine's user stores.
   */
  static void verify(EngineBackend b, Set<StoreId> users, List<String> problems) {
    if (b.engine().get(ExpiryIndex.META, MARKER) == null) {
      return; // never built (a read-only open of data older than the catalog): nothing to compare
    }
    TreeMap<StoreId, byte[]> recorded = new TreeMap<>();
    byte[] from = new byte[0];
    while (true) {
      List<StorageEngine.Record> page =
          b.engine().range(ExpiryIndex.META, from, null, EngineBackend.page());
      for (StorageEngine.Record r : page) {
        String key = new String(r.key(), StandardCharsets.UTF_8);
        if (key.startsWith(LOG_PREFIX)) {
          recorded.put(new StoreId(StoreKind.LOG, key.substring(LOG_PREFIX.length())), r.value());
        } else if (key.startsWith(SET_PREFIX)) {
          recorded.put(
              new StoreId(StoreKind.SNAPSHOT, key.substring(SET_PREFIX.length())), r.value());
        }
      }
      if (page.size() < EngineBackend.page()) {
        break;
      }
      from = BaseKeyValueStore.successor(page.get(page.size() - 1).key());
    }
    for (var e : recorded.entrySet()) {
      StoreId id = e.getKey();
      String at = ArgumentChecks.kindName(id.kind()) + " '" + id.name() + "' of " + b + ": ";
      if (id.kind() == StoreKind.LOG) {
        if (b.engine().get(id, new byte[0]) == null) {
          problems.add(
              at
                  + "the base's catalog records that it was written, but its position record is"
                  + " gone"
                  + (users.contains(id) ? " (some records remain)" : " with every record")
                  + ": the log was lost; restore the backend from a backup");
        }
      } else {
        long listed;
        try {
          listed = count(b, setKey(id.name()), e.getValue());
        } catch (StoreCorruptedException damaged) {
          problems.add(damaged.getMessage());
          continue;
        }
        long found = b.snapshotStore(id.name()).manifestCount();
        if (listed != found) {
          problems.add(
              at
                  + "the base's catalog records "
                  + listed
                  + " snapshots but "
                  + found
                  + " are stored"
                  + (found < listed ? ": snapshots were lost" : ": the catalog entry is damaged"));
        }
      }
    }
    for (StoreId id : users) {
      boolean catalogued = id.kind() == StoreKind.KEY_VALUE || recorded.containsKey(id);
      if (!catalogued
          && (id.kind() == StoreKind.LOG || b.snapshotStore(id.name()).manifestCount() > 0)) {
        problems.add(
            ArgumentChecks.kindName(id.kind())
                + " '"
                + id.name()
                + "' of "
                + b
                + ": holds data but has no entry in the base's catalog (the entry was lost, or a"
                + " Cairn older than the catalog wrote it)");
      }
    }
  }
}
