package io.cairn.pekko;

import com.typesafe.config.Config;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.pekko.dispatch.Futures;
import org.apache.pekko.persistence.AtomicWrite;
import org.apache.pekko.persistence.PersistentRepr;
import org.apache.pekko.persistence.PersistentRepr$;
import org.apache.pekko.persistence.journal.Tagged;
import org.apache.pekko.persistence.journal.japi.AsyncWriteJournal;
import scala.concurrent.ExecutionContext;
import scala.concurrent.Future;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Pekko Persistence journal plugin over a Cairn backend. Enable it with {@code
 * pekko.persistence.journal.plugin = "cairn.pekko.journal"}; its settings are in cairn-pekko's
 * {@code reference.conf}.
 *
 * <h2>Layout</h2>
 *
 * All persistence ids share <b>one key-value namespace</b> ({@code cairn.pekko.journal.namespace},
 * default {@code pekko-journal}) of the configured backend, so the number of Cairn stores does not
 * grow with the number of persistent actors. It holds two kinds of entries:
 *
 * <pre>
 * event    'E' | u16 length of pid | pid (UTF-8) | u64 seqNr (big-endian)  -> event record
 * highest  'H' | pid (UTF-8)                                               -> u64 highest seqNr
 *
 * event record (format 1):
 *   u8 format = 1 | i64 timestamp (epoch ms) | str writerUuid | str event-adapter manifest
 *   | i32 tag count | str tag ... | u8 has-metadata [ i32 serializer id | str manifest | blob ]
 *   | i32 payload serializer id | str payload manifest | blob payload
 *   (str and blob: i32 length + bytes; every length is checked on read)
 * </pre>
 *
 * <ul>
 *   <li><b>Sequence numbers per id.</b> Big-endian numbers make one id's events a contiguous,
 *       numerically ordered key range: a replay {@code [from, to]} with a count limit is one
 *       ordered scan, no index needed. The length prefix keeps one id's range from interleaving
 *       with another id that shares a prefix.
 *   <li><b>Writes.</b> Every {@code AtomicWrite} of one {@code WriteMessages} call (one actor's
 *       batch) is stored in <b>one {@code inTransaction}</b> together with the updated highest
 *       sequence numbers: after a crash all of it is there or none. A write whose sequence number
 *       is not above the stored highest one fails the whole call without writing (two writers for
 *       one id); nothing stored is ever overwritten. Events that Pekko cannot serialize are
 *       rejected individually before anything is written ({@code
 *       supportsRejectingNonSerializableObjects}). A write is acknowledged only after the backend's
 *       transaction commits, so it is as durable as the backend's {@code durability} (normal or
 *       full survives {@code kill -9}).
 *   <li><b>Serialization.</b> Payloads and metadata go through Pekko's serialization extension; the
 *       serializer id and manifest are stored beside the bytes. Tags ({@link Tagged}) are unwrapped
 *       and stored in the record; the event-adapter manifest is stored so the read-side adapters
 *       Pekko applies see it. The sender is not stored (Pekko replays without sender). A timestamp
 *       of 0 is replaced by the write time.
 *   <li><b>Deletes up to a sequence number</b> remove the event entries {@code <= to} in
 *       transactions of {@value JournalStore#DELETE_PAGE} keys, lowest first; a crash in between
 *       leaves the lowest deleted and the rest intact, and repeating the delete completes it.
 *   <li><b>Highest sequence number after deletes.</b> The {@code 'H'} entry is written with every
 *       batch and never deleted, so it survives deleting every event of the id; Pekko continues
 *       numbering above it.
 * </ul>
 *
 * <h2>Threads</h2>
 *
 * Writes and deletes run synchronously in the journal actor (on its {@code plugin-dispatcher};
 * Pekko's default gives each plugin actor a thread of its own, so blocking there is expected),
 * which keeps them in arrival order per journal. Replays and highest-sequence-number reads run on
 * the {@code replay-dispatcher}, so a long recovery does not hold up writes of other actors.
 */
public final class CairnJournal extends AsyncWriteJournal {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CairnJournal.class);

  private final JournalStore store;
  private final Serde serde;
  private final ExecutionContext replayEc;

  /** Called by Pekko with the plugin's configuration section and its path. */
  public CairnJournal(Config config, String configPath) {
    PluginSettings settings = PluginSettings.read(config, configPath);
    this.store =
        new JournalStore(
            CairnPekko.get(context().system()).backend(settings.backend(), configPath),
            settings.namespace());
    this.serde = new Serde(context().system());
    this.replayEc =
        context()
            .system()
            .dispatchers()
            .lookup(PluginSettings.string(config, configPath, "replay-dispatcher"));
    LOG.info("Cairn journal {} uses {}", configPath, store.describe());
  }

  @Override
  public Future<Iterable<Optional<Exception>>> doAsyncWriteMessages(
      Iterable<AtomicWrite> messages) {
    List<Optional<Exception>> results = new ArrayList<>();
    List<List<JournalStore.Event>> accepted = new ArrayList<>();
    long now = System.currentTimeMillis();
    for (AtomicWrite aw : messages) {
      try {
        List<JournalStore.Event> events = new ArrayList<>();
        for (PersistentRepr p : CollectionConverters.asJava(aw.payload())) {
          events.add(toEvent(p, now));
        }
        accepted.add(events);
        results.add(Optional.empty());
      } catch (Exception e) { // serialization or argument problem of this AtomicWrite only
        results.add(Optional.of(e));
      }
    }
    try {
      store.write(accepted);
    } catch (RuntimeException e) {
      return Futures.failed(e);
    }
    return Futures.successful(results);
  }

  private JournalStore.Event toEvent(PersistentRepr p, long now) throws Exception {
    Keys.pidBytes(p.persistenceId()); // reject an over-long id before serializing
    Object payload = p.payload();
    List<String> tags = List.of();
    if (payload instanceof Tagged tagged) {
      payload = tagged.payload();
      tags = new ArrayList<>(CollectionConverters.asJava(tagged.tags()));
      tags.sort(null); // deterministic record bytes
    }
    Serde.Serialized meta = p.metadata().isDefined() ? serde.serialize(p.metadata().get()) : null;
    return new JournalStore.Event(
        p.persistenceId(),
        p.sequenceNr(),
        p.timestamp() == 0 ? now : p.timestamp(),
        p.writerUuid(),
        p.manifest(),
        tags,
        meta,
        serde.serialize(payload));
  }

  @Override
  public Future<Void> doAsyncDeleteMessagesTo(String persistenceId, long toSequenceNr) {
    try {
      store.deleteTo(persistenceId, toSequenceNr);
      return Futures.successful(null);
    } catch (RuntimeException e) {
      return Futures.failed(e);
    }
  }

  @Override
  public Future<Void> doAsyncReplayMessages(
      String persistenceId,
      long fromSequenceNr,
      long toSequenceNr,
      long max,
      Consumer<PersistentRepr> replayCallback) {
    return Futures.future(
        () -> {
          store.replay(
              persistenceId,
              fromSequenceNr,
              toSequenceNr,
              max,
              e -> replayCallback.accept(toRepr(serde, store, e)));
          return null;
        },
        replayEc);
  }

  @Override
  public Future<Long> doAsyncReadHighestSequenceNr(String persistenceId, long fromSequenceNr) {
    return Futures.future(() -> store.highest(persistenceId), replayEc);
  }

  /** The Pekko form of a stored event, payload and metadata deserialized. */
  static PersistentRepr toRepr(Serde serde, JournalStore store, JournalStore.Event e) {
    String where =
        store.describe()
            + ", persistenceId '"
            + e.persistenceId()
            + "', sequence number "
            + e.seqNr();
    Object payload = serde.deserialize(e.payload(), where + " (payload)");
    PersistentRepr repr =
        PersistentRepr$.MODULE$
            .apply(
                payload,
                e.seqNr(),
                e.persistenceId(),
                e.adapterManifest(),
                false,
                null,
                e.writerUuid())
            .withTimestamp(e.timestamp());
    if (e.meta() != null) {
      repr = repr.withMetadata(serde.deserialize(e.meta(), where + " (metadata)"));
    }
    return repr;
  }
}
