package io.cairn.pekko;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.dispatch.MessageDispatcher;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.persistence.Persistence;
import org.apache.pekko.persistence.journal.EventAdapters;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.javadsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.persistence.query.javadsl.CurrentPersistenceIdsQuery;
import org.apache.pekko.persistence.query.javadsl.EventsByPersistenceIdQuery;
import org.apache.pekko.stream.javadsl.Source;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Pekko Persistence Query read journal over the data of a {@link CairnJournal} (Java API; {@link
 * CairnReadJournalProvider} also gives the Scala API). Obtain it with
 *
 * <pre>{@code
 * CairnReadJournal journal = PersistenceQuery.get(system)
 *     .getReadJournalFor(CairnReadJournal.class, CairnReadJournal.IDENTIFIER);
 * }</pre>
 *
 * <ul>
 *   <li>{@link #currentEventsByPersistenceId} streams the stored events of one id in sequence order
 *       and completes; {@link #eventsByPersistenceId} keeps going, looking for new events every
 *       {@code cairn.pekko.query.refresh-interval} once it has caught up. Both read {@code
 *       batch-size} events per backend scan on Pekko's blocking-I/O dispatcher, and both apply the
 *       journal's read-side event adapters. The offset of an envelope is {@code
 *       Offset.sequence(seqNr)}.
 *   <li>{@link #currentPersistenceIds} lists every id ever written, also ids whose events were all
 *       deleted, in UTF-8 byte order.
 *   <li>Not offered: {@code persistenceIds} (live) and {@code eventsByTag}. Tags are stored with
 *       each event, but a tag query needs a global, gap-free ordering of all events and an index
 *       from tag to events, which this layout (one ordered range per persistence id) does not have;
 *       adding it would cost an extra index write per tag on every event.
 * </ul>
 *
 * <p>Thread-safe; sources may be materialized any number of times.
 */
public final class CairnReadJournal
    implements EventsByPersistenceIdQuery,
        CurrentEventsByPersistenceIdQuery,
        CurrentPersistenceIdsQuery {
  /** The plugin id to pass to {@code PersistenceQuery.getReadJournalFor}. */
  public static final String IDENTIFIER = "cairn.pekko.query";

  private final ExtendedActorSystem system;
  private final JournalStore store;
  private final Serde serde;
  private final EventAdapters adapters;
  private final Duration refreshInterval;
  private final int batchSize;
  private final MessageDispatcher blockingIo;

  CairnReadJournal(ExtendedActorSystem system, Config config, String configPath) {
    this.system = system;
    String journalPath = PluginSettings.string(config, configPath, "journal");
    PluginSettings journal =
        PluginSettings.read(system.settings().config().getConfig(journalPath), journalPath);
    this.store =
        new JournalStore(
            CairnPekko.get(system).backend(journal.backend(), journalPath), journal.namespace());
    this.serde = new Serde(system);
    this.adapters = Persistence.get(system).adaptersFor(journalPath);
    this.refreshInterval = config.getDuration("refresh-interval");
    this.batchSize = config.getInt("batch-size");
    if (batchSize <= 0 || refreshInterval.isNegative() || refreshInterval.isZero()) {
      throw new io.cairn.persistence.ConfigurationException(
          configPath
              + ": batch-size must be positive (got "
              + batchSize
              + ") and refresh-interval positive (got "
              + refreshInterval
              + ")");
    }
    this.blockingIo = system.dispatchers().lookup("pekko.actor.default-blocking-io-dispatcher");
  }

  @Override
  public Source<EventEnvelope, NotUsed> eventsByPersistenceId(
      String persistenceId, long fromSequenceNr, long toSequenceNr) {
    return events(persistenceId, fromSequenceNr, toSequenceNr, true);
  }

  @Override
  public Source<EventEnvelope, NotUsed> currentEventsByPersistenceId(
      String persistenceId, long fromSequenceNr, long toSequenceNr) {
    return events(persistenceId, fromSequenceNr, toSequenceNr, false);
  }

  /** State {@code null} = done; else the next sequence number to read. */
  private Source<EventEnvelope, NotUsed> events(String pid, long from, long to, boolean live) {
    Keys.pidBytes(pid); // fail at once for an impossible id
    Long start = Math.max(1, from);
    return Source.<Long, List<EventEnvelope>>unfoldAsync(
            start,
            next -> {
              if (next == null || next > to) {
                return CompletableFuture.completedFuture(Optional.empty());
              }
              return CompletableFuture.supplyAsync(() -> page(pid, next, to), blockingIo)
                  .thenCompose(
                      page -> {
                        if (!page.isEmpty()) {
                          long last = page.get(page.size() - 1).sequenceNr();
                          Long after = last == Long.MAX_VALUE ? null : last + 1;
                          return CompletableFuture.completedFuture(
                              Optional.of(Pair.create(after, page)));
                        }
                        if (!live) {
                          return CompletableFuture.completedFuture(Optional.empty());
                        }
                        return Patterns.after(
                            refreshInterval,
                            system.scheduler(),
                            system.dispatcher(),
                            () -> idle(next));
                      });
            })
        .mapConcat(page -> page);
  }

  private static CompletionStage<Optional<Pair<Long, List<EventEnvelope>>>> idle(Long next) {
    return CompletableFuture.completedFuture(Optional.of(Pair.create(next, List.of())));
  }

  private List<EventEnvelope> page(String pid, long from, long to) {
    List<EventEnvelope> out = new ArrayList<>();
    for (JournalStore.Event e : store.read(pid, from, to, batchSize)) {
      var repr = CairnJournal.toRepr(serde, store, e);
      Option<Object> meta = repr.metadata();
      for (Object event :
          CollectionConverters.asJava(
              adapters
                  .get(repr.payload().getClass())
                  .fromJournal(repr.payload(), repr.manifest())
                  .events())) {
        out.add(
            new EventEnvelope(
                Offset.sequence(e.seqNr()), pid, e.seqNr(), event, e.timestamp(), meta));
      }
    }
    return out;
  }

  @Override
  public Source<String, NotUsed> currentPersistenceIds() {
    // State: Optional.empty() before the first page, else the last id seen; null when done.
    return Source.<Optional<String>, List<String>>unfoldAsync(
            Optional.empty(),
            after -> {
              if (after == null) {
                return CompletableFuture.completedFuture(Optional.empty());
              }
              return CompletableFuture.supplyAsync(
                  () -> {
                    List<String> ids = store.persistenceIds(after.orElse(null), batchSize);
                    if (ids.isEmpty()) {
                      return Optional.empty();
                    }
                    Optional<String> last = Optional.of(ids.get(ids.size() - 1));
                    return Optional.of(Pair.create(ids.size() < batchSize ? null : last, ids));
                  },
                  blockingIo);
            })
        .mapConcat(ids -> ids);
  }
}
