package io.cairn.pekko;

import com.typesafe.config.Config;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.Transaction;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.dispatch.Futures;
import org.apache.pekko.persistence.SelectedSnapshot;
import org.apache.pekko.persistence.SnapshotMetadata;
import org.apache.pekko.persistence.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.snapshot.japi.SnapshotStore;
import scala.Option;
import scala.concurrent.Future;

/**
 * Pekko Persistence snapshot store plugin over a Cairn backend. Enable it with {@code
 * pekko.persistence.snapshot-store.plugin = "cairn.pekko.snapshot-store"}.
 *
 * <h2>Layout</h2>
 *
 * All persistence ids share <b>one key-value namespace</b> ({@code
 * cairn.pekko.snapshot-store.namespace}, default {@code pekko-snapshots}):
 *
 * <pre>
 * index     'M' | u16 length of pid | pid (UTF-8) | u64 seqNr  -> u8 format = 1 | i64 timestamp
 * snapshot  'S' | u16 length of pid | pid (UTF-8) | u64 seqNr  -> u8 format = 1 | i64 timestamp
 *             | u8 has-metadata [ i32 serializer id | str manifest | blob ]
 *             | i32 serializer id | str manifest | blob snapshot
 * </pre>
 *
 * <ul>
 *   <li>The small index entry lets a load or a delete by criteria (sequence number and timestamp
 *       bounds) find the matching snapshots with one scan, without reading snapshot bodies. Both
 *       entries of a snapshot are written and deleted in one {@code inTransaction}, so an index
 *       entry without its snapshot is damage and reported as {@link StoreCorruptedException}.
 *   <li>Saving a sequence number that exists replaces it (Pekko's contract).
 *   <li>The snapshot and its metadata are serialized with Pekko's serialization extension;
 *       serializer id and manifest are stored with the bytes.
 *   <li>Why not Cairn's {@code SnapshotStore}: that is one versioned set per name, which here would
 *       mean one store per persistence id, and it cannot select by Pekko's timestamp bounds nor
 *       update an index atomically with a save. Pekko hands the snapshot over as an object that its
 *       serializer turns into one byte array anyway, so streaming would not help.
 *   <li><b>Size cap.</b> A serialized snapshot (with its header) is at most {@link
 *       KeyValueStore#MAX_VALUE_BYTES} bytes; a larger one fails the save with an error saying so
 *       and leaves the stored snapshots untouched.
 *   <li>A load that finds a snapshot it cannot read (damaged, or a serializer this actor system
 *       lacks) fails with that error instead of silently falling back to an older snapshot.
 * </ul>
 *
 * <p>All operations run as futures on the plugin's dispatcher ({@code plugin-dispatcher}).
 */
public final class CairnSnapshotStore extends SnapshotStore {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(CairnSnapshotStore.class);

  static final byte INDEX = 'M';
  static final byte SNAPSHOT = 'S';
  static final int FORMAT = 1;

  private final StorageBackend backend;
  private final String namespace;
  private final KeyValueStore kv;
  private final Serde serde;

  /** Called by Pekko with the plugin's configuration section and its path. */
  public CairnSnapshotStore(Config config, String configPath) {
    PluginSettings settings = PluginSettings.read(config, configPath);
    this.backend = CairnPekko.get(context().system()).backend(settings.backend(), configPath);
    this.namespace = settings.namespace();
    this.kv = backend.keyValue(namespace);
    this.serde = new Serde(context().system());
    LOG.info("Cairn snapshot store {} uses {}", configPath, describe());
  }

  private String describe() {
    return backend.type() + " backend '" + backend.name() + "', namespace '" + namespace + "'";
  }

  private String where(String pid, long seqNr) {
    return describe() + ", snapshot of persistenceId '" + pid + "' at sequence number " + seqNr;
  }

  /** One index entry. */
  private record Indexed(long seqNr, long timestamp) {}

  /** Index entries of {@code pid} matching {@code c}, ascending by sequence number. */
  private List<Indexed> matching(String pid, SnapshotSelectionCriteria c) {
    List<Indexed> out = new ArrayList<>();
    if (c.minSequenceNr() > c.maxSequenceNr()) {
      return out;
    }
    byte[] prefix = Keys.prefix(INDEX, Keys.pidBytes(pid));
    try (CloseableIterator<Entry> it =
        kv.scan(
            Keys.seqKey(prefix, Math.max(0, c.minSequenceNr())),
            Keys.upperBound(prefix, c.maxSequenceNr()))) {
      while (it.hasNext()) {
        Entry e = it.next();
        long seq = Keys.seqOf(e.key());
        Records.Reader r = new Records.Reader(e.value(), where(pid, seq) + " (index entry)");
        r.format(FORMAT);
        long ts = r.i64();
        r.end();
        if (ts >= c.minTimestamp() && ts <= c.maxTimestamp()) {
          out.add(new Indexed(seq, ts));
        }
      }
    }
    return out;
  }

  @Override
  public Future<Optional<SelectedSnapshot>> doLoadAsync(
      String persistenceId, SnapshotSelectionCriteria criteria) {
    return Futures.future(() -> load(persistenceId, criteria), context().dispatcher());
  }

  private Optional<SelectedSnapshot> load(String pid, SnapshotSelectionCriteria criteria) {
    List<Indexed> found = matching(pid, criteria);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    Indexed latest = found.get(found.size() - 1);
    String where = where(pid, latest.seqNr());
    byte[] value = kv.get(Keys.seqKey(Keys.prefix(SNAPSHOT, Keys.pidBytes(pid)), latest.seqNr()));
    if (value == null) {
      throw new StoreCorruptedException(
          where
              + ": the index entry exists but the snapshot entry does not (they are written"
              + " together); the namespace is damaged. Delete this snapshot"
              + " (deleteSnapshot) or restore the backend from a backup.");
    }
    Records.Reader r = new Records.Reader(value, where);
    r.format(FORMAT);
    long ts = r.i64();
    int hasMeta = r.u8();
    if (hasMeta > 1) {
      throw new StoreCorruptedException(where + ": bad metadata flag " + hasMeta);
    }
    Serde.Serialized meta = hasMeta == 1 ? Serde.read(r) : null;
    Serde.Serialized data = Serde.read(r);
    r.end();
    Option<Object> metaObj =
        meta == null
            ? Option.empty()
            : Option.apply(serde.deserialize(meta, where + " (metadata)"));
    Object snapshot = serde.deserialize(data, where);
    return Optional.of(
        SelectedSnapshot.create(
            SnapshotMetadata.apply(pid, latest.seqNr(), ts, metaObj), snapshot));
  }

  @Override
  public Future<Void> doSaveAsync(SnapshotMetadata metadata, Object snapshot) {
    return Futures.future(
        () -> {
          save(metadata, snapshot);
          return null;
        },
        context().dispatcher());
  }

  private void save(SnapshotMetadata md, Object snapshot) throws Exception {
    byte[] pid = Keys.pidBytes(md.persistenceId());
    Records.Writer w = new Records.Writer().u8(FORMAT).i64(md.timestamp());
    if (md.metadata().isDefined()) {
      w.u8(1);
      Serde.write(w, serde.serialize(md.metadata().get()));
    } else {
      w.u8(0);
    }
    Serde.write(w, serde.serialize(snapshot));
    byte[] value = w.toByteArray();
    checkSize(where(md.persistenceId(), md.sequenceNr()), value.length);
    byte[] index = new Records.Writer().u8(FORMAT).i64(md.timestamp()).toByteArray();
    backend.inTransaction(
        tx -> {
          Transaction.KeyValueWriter kw = tx.keyValue(namespace);
          kw.put(Keys.seqKey(Keys.prefix(INDEX, pid), md.sequenceNr()), index);
          kw.put(Keys.seqKey(Keys.prefix(SNAPSHOT, pid), md.sequenceNr()), value);
          return null;
        });
  }

  /** Rejects a snapshot record over the key-value value cap before anything is written. */
  static void checkSize(String where, long length) {
    if (length > KeyValueStore.MAX_VALUE_BYTES) {
      throw new IllegalArgumentException(
          where
              + ": the serialized snapshot is "
              + length
              + " bytes, over the "
              + KeyValueStore.MAX_VALUE_BYTES
              + "-byte value cap of Cairn key-value stores; nothing was saved. Make the state"
              + " smaller or split it over several persistent actors.");
    }
  }

  @Override
  public Future<Void> doDeleteAsync(SnapshotMetadata metadata) {
    return Futures.future(
        () -> {
          // Pekko: a timestamp of 0 means "whatever the timestamp"
          long ts = metadata.timestamp();
          SnapshotSelectionCriteria c =
              SnapshotSelectionCriteria.create(
                  metadata.sequenceNr(),
                  ts == 0 ? Long.MAX_VALUE : ts,
                  metadata.sequenceNr(),
                  ts == 0 ? 0 : ts);
          delete(metadata.persistenceId(), c);
          return null;
        },
        context().dispatcher());
  }

  @Override
  public Future<Void> doDeleteAsync(String persistenceId, SnapshotSelectionCriteria criteria) {
    return Futures.future(
        () -> {
          delete(persistenceId, criteria);
          return null;
        },
        context().dispatcher());
  }

  private void delete(String pid, SnapshotSelectionCriteria criteria) {
    byte[] pidBytes = Keys.pidBytes(pid);
    List<Indexed> found = matching(pid, criteria);
    for (int i = 0; i < found.size(); i += JournalStore.DELETE_PAGE) {
      List<Indexed> page = found.subList(i, Math.min(found.size(), i + JournalStore.DELETE_PAGE));
      backend.inTransaction(
          tx -> {
            Transaction.KeyValueWriter kw = tx.keyValue(namespace);
            for (Indexed x : page) {
              kw.delete(Keys.seqKey(Keys.prefix(INDEX, pidBytes), x.seqNr()));
              kw.delete(Keys.seqKey(Keys.prefix(SNAPSHOT, pidBytes), x.seqNr()));
            }
            return null;
          });
    }
  }
}
