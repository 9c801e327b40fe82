package io.cairn.pekko;

import com.typesafe.config.Config;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.ReadJournalProvider;
import org.apache.pekko.persistence.query.scaladsl.CurrentEventsByPersistenceIdQuery;
import org.apache.pekko.persistence.query.scaladsl.CurrentPersistenceIdsQuery;
import org.apache.pekko.persistence.query.scaladsl.EventsByPersistenceIdQuery;
import org.apache.pekko.stream.scaladsl.Source;

/**
 * Pekko's entry point for {@code cairn.pekko.query} (named by its {@code class} key): gives the
 * {@link CairnReadJournal} (Java API) and a Scala API view of the same journal.
 */
public final class CairnReadJournalProvider implements ReadJournalProvider {
  private final CairnReadJournal javadsl;
  private final ScalaReadJournal scaladsl;

  /** Called by Pekko with the query plugin's configuration section and its path. */
  public CairnReadJournalProvider(ExtendedActorSystem system, Config config, String configPath) {
    this.javadsl = new CairnReadJournal(system, config, configPath);
    this.scaladsl = new ScalaReadJournal(javadsl);
  }

  @Override
  public CairnReadJournal javadslReadJournal() {
    return javadsl;
  }

  @Override
  public ScalaReadJournal scaladslReadJournal() {
    return scaladsl;
  }

  /** The Scala API: the same queries as {@link CairnReadJournal}. */
  public static final class ScalaReadJournal
      implements EventsByPersistenceIdQuery,
          CurrentEventsByPersistenceIdQuery,
          CurrentPersistenceIdsQuery {
    private final CairnReadJournal journal;

    ScalaReadJournal(CairnReadJournal journal) {
      this.journal = journal;
    }

    @Override
    public Source<EventEnvelope, NotUsed> eventsByPersistenceId(String id, long from, long to) {
      return journal.eventsByPersistenceId(id, from, to).asScala();
    }

    @Override
    public Source<EventEnvelope, NotUsed> currentEventsByPersistenceId(
        String id, long from, long to) {
      return journal.currentEventsByPersistenceId(id, from, to).asScala();
    }

    @Override
    public Source<String, NotUsed> currentPersistenceIds() {
      return journal.currentPersistenceIds().asScala();
    }
  }
}
