package io.cairn.pekko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.BootstrapSetup;
import org.apache.pekko.actor.Props;
import org.apache.pekko.actor.setup.ActorSystemSetup;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.persistence.AbstractPersistentActor;
import org.apache.pekko.persistence.DeleteMessagesSuccess;
import org.apache.pekko.persistence.journal.EventAdapter;
import org.apache.pekko.persistence.journal.EventSeq;
import org.apache.pekko.persistence.journal.Tagged;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plugins inside a real actor system: tags, registry lifecycle, the read journal. */
class PekkoPluginTest {
  @TempDir Path dir;

  private static final Duration T = Duration.ofSeconds(60); // a loaded build machine

  private Config config(String type) {
    return ConfigFactory.parseString("cairn.pekko.query.refresh-interval = 100ms")
        .withFallback(TestConfigs.plugins(type, dir, "normal"));
  }

  private static void terminate(ActorSystem system) throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static Object ask(ActorRef actor, Object msg) throws Exception {
    return Patterns.ask(actor, msg, T).toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /** Persists what it is sent and replies "ok"; "events" replies the recovered + persisted list. */
  static final class Recorder extends AbstractPersistentActor {
    private final String id;
    private final List<Object> events = new ArrayList<>();
    private ActorRef deleteRequester;

    Recorder(String id) {
      this.id = id;
    }

    @Override
    public String persistenceId() {
      return id;
    }

    @Override
    public Receive createReceiveRecover() {
      return receiveBuilder().match(String.class, e -> events.add(e)).build();
    }

    @Override
    public Receive createReceive() {
      return receiveBuilder()
          .matchEquals("events", m -> sender().tell(new ArrayList<>(events), self()))
          .matchEquals(
              "delete-all",
              m -> {
                deleteRequester = sender();
                deleteMessages(lastSequenceNr());
              })
          .match(DeleteMessagesSuccess.class, m -> deleteRequester.tell("deleted", self()))
          .match(
              Tagged.class,
              t -> {
                ActorRef to = sender();
                persist(
                    t,
                    e -> {
                      events.add(t.payload());
                      to.tell("ok", self());
                    });
              })
          .match(
              String.class,
              s -> {
                ActorRef to = sender();
                persist(
                    s,
                    e -> {
                      events.add(e);
                      to.tell("ok", self());
                    });
              })
          .build();
    }
  }

  @Test
  void taggedEventsAreStoredWithTheirTagsAndReplayedUnwrapped() throws Exception {
    ActorSystem system = ActorSystem.create("tags", config("sqlite"));
    try {
      ActorRef a = system.actorOf(Props.create(Recorder.class, "tagged"));
      assertThat(
              ask(
                  a,
                  new Tagged(
                      "e1",
                      scala.jdk.javaapi.CollectionConverters.asScala(Set.of("t2", "t1")).toSet())))
          .isEqualTo("ok");
      assertThat(ask(a, "e2")).isEqualTo("ok");
    } finally {
      terminate(system);
    }
    system = ActorSystem.create("tags2", config("sqlite"));
    try {
      ActorRef a = system.actorOf(Props.create(Recorder.class, "tagged"));
      assertThat(ask(a, "events")).isEqualTo(List.of("e1", "e2"));
      JournalStore store =
          new JournalStore(CairnPekko.get(system).registry().backend("main"), "pekko-journal");
      List<JournalStore.Event> stored = store.read("tagged", 1, Long.MAX_VALUE, 10);
      assertThat(stored)
          .extracting(JournalStore.Event::tags)
          .containsExactly(List.of("t1", "t2"), List.of());
      assertThat(stored).allSatisfy(e -> assertThat(e.timestamp()).isPositive());
    } finally {
      terminate(system);
    }
  }

  /** Tags every event and records a manifest on the way in; appends the manifest on the way out. */
  public static final class VersionAdapter implements EventAdapter {
    @Override
    public String manifest(Object event) {
      return "v1";
    }

    @Override
    public Object toJournal(Object event) {
      return new Tagged(
          event, scala.jdk.javaapi.CollectionConverters.asScala(Set.of("adapted")).toSet());
    }

    @Override
    public EventSeq fromJournal(Object event, String manifest) {
      return EventSeq.single(event + "@" + manifest);
    }
  }

  @Test
  void eventAdaptersRunOnWriteReplayAndQuery() throws Exception {
    Config config =
        ConfigFactory.parseString(
                String.join(
                    "\n",
                    "cairn.pekko.journal.event-adapters.version = \""
                        + VersionAdapter.class.getName()
                        + "\"",
                    "cairn.pekko.journal.event-adapter-bindings { \"java.lang.String\" = version }"))
            .withFallback(config("rocksdb"));
    ActorSystem system = ActorSystem.create("adapters", config);
    try {
      ActorRef a = system.actorOf(Props.create(Recorder.class, "adapted"));
      assertThat(ask(a, "e1")).isEqualTo("ok");
    } finally {
      terminate(system);
    }
    system = ActorSystem.create("adapters2", config);
    try {
      ActorRef a = system.actorOf(Props.create(Recorder.class, "adapted"));
      assertThat(ask(a, "events")).isEqualTo(List.of("e1@v1"));
      JournalStore.Event stored =
          new JournalStore(CairnPekko.get(system).registry().backend("main"), "pekko-journal")
              .read("adapted", 1, 1, 1)
              .get(0);
      assertThat(stored.adapterManifest()).isEqualTo("v1");
      assertThat(stored.tags()).containsExactly("adapted");
      CairnReadJournal journal =
          PersistenceQuery.get(system)
              .getReadJournalFor(CairnReadJournal.class, CairnReadJournal.IDENTIFIER);
      assertThat(
              journal
                  .currentEventsByPersistenceId("adapted", 0, Long.MAX_VALUE)
                  .map(EventEnvelope::event)
                  .runWith(Sink.seq(), system)
                  .toCompletableFuture()
                  .get(60, TimeUnit.SECONDS))
          .containsExactly("e1@v1");
    } finally {
      terminate(system);
    }
  }

  @Test
  void aSnapshotOverTheValueCapIsRefusedWithTheReason() {
    CairnSnapshotStore.checkSize("here", io.cairn.persistence.KeyValueStore.MAX_VALUE_BYTES);
    assertThatThrownBy(
            () ->
                CairnSnapshotStore.checkSize(
                    "here", io.cairn.persistence.KeyValueStore.MAX_VALUE_BYTES + 1L))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("here: the serialized snapshot is 67108865 bytes")
        .hasMessageContaining("nothing was saved");
  }

  @Test
  void theRegistryOpenedFromTheActorSystemConfigIsClosedWithTheActorSystem() throws Exception {
    Config config = config("rocksdb");
    ActorSystem system = ActorSystem.create("owned", config);
    ActorRef a = system.actorOf(Props.create(Recorder.class, "owned"));
    assertThat(ask(a, "e1")).isEqualTo("ok");
    assertThat(CairnPekko.get(system).ownsRegistry()).isTrue();
    terminate(system);
    // RocksDB locks its data directory while open: this open fails if the handles leaked
    try (PersistenceRegistry r = PersistenceRegistry.open(config)) {
      assertThat(new JournalStore(r.backend("main"), "pekko-journal").highest("owned"))
          .isEqualTo(1);
    }
  }

  @Test
  void aRegistryHandedInIsUsedAndLeftOpenForItsOwner() throws Exception {
    Config config = config("rocksdb");
    try (PersistenceRegistry registry = PersistenceRegistry.open(config)) {
      ActorSystem system =
          ActorSystem.create(
              "shared",
              ActorSystemSetup.create(
                  BootstrapSetup.create(config), CairnRegistrySetup.create(registry)));
      try {
        assertThat(CairnPekko.get(system).registry()).isSameAs(registry);
        assertThat(CairnPekko.get(system).ownsRegistry()).isFalse();
        ActorRef a = system.actorOf(Props.create(Recorder.class, "shared"));
        assertThat(ask(a, "e1")).isEqualTo("ok");
      } finally {
        terminate(system);
      }
      // still open: the application owns it
      assertThat(new JournalStore(registry.backend("main"), "pekko-journal").highest("shared"))
          .isEqualTo(1);
    }
  }

  @Test
  void anUnknownBackendNameIsNamedWithThePluginPathAndTheConfiguredBackends() throws Exception {
    ActorSystem system = ActorSystem.create("misconfigured", config("sqlite"));
    try {
      assertThatThrownBy(() -> CairnPekko.get(system).backend("nope", "cairn.pekko.journal"))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("cairn.pekko.journal.backend = \"nope\"")
          .hasMessageContaining("[main]");
    } finally {
      terminate(system);
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void readJournalStreamsStoredAndLiveEventsAndListsPersistenceIds() throws Exception {
    ActorSystem system = ActorSystem.create("query", config("sqlite"));
    try {
      ActorRef a = system.actorOf(Props.create(Recorder.class, "q-a"));
      ActorRef b = system.actorOf(Props.create(Recorder.class, "q-b"));
      for (int i = 1; i <= 3; i++) {
        assertThat(ask(a, "a" + i)).isEqualTo("ok");
      }
      assertThat(ask(b, "b1")).isEqualTo("ok");
      assertThat(ask(b, "delete-all")).isEqualTo("deleted");

      CairnReadJournal journal =
          PersistenceQuery.get(system)
              .getReadJournalFor(CairnReadJournal.class, CairnReadJournal.IDENTIFIER);
      List<EventEnvelope> current =
          journal
              .currentEventsByPersistenceId("q-a", 2, Long.MAX_VALUE)
              .runWith(Sink.seq(), system)
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      assertThat(current).extracting(EventEnvelope::event).containsExactly("a2", "a3");
      assertThat(current).extracting(EventEnvelope::sequenceNr).containsExactly(2L, 3L);

      // the live query sees events persisted after it started, then stops at toSequenceNr
      var live =
          journal
              .eventsByPersistenceId("q-a", 1, 5)
              .map(EventEnvelope::event)
              .runWith(Sink.seq(), system)
              .toCompletableFuture();
      Thread.sleep(300);
      assertThat(live).isNotDone();
      assertThat(ask(a, "a4")).isEqualTo("ok");
      assertThat(ask(a, "a5")).isEqualTo("ok");
      assertThat((List<Object>) (List<?>) live.get(60, TimeUnit.SECONDS))
          .containsExactly("a1", "a2", "a3", "a4", "a5");

      // ids whose events were all deleted are still listed
      List<String> ids =
          journal
              .currentPersistenceIds()
              .runWith(Sink.seq(), system)
              .toCompletableFuture()
              .get(60, TimeUnit.SECONDS);
      assertThat(ids).containsExactly("q-a", "q-b");

      // the Scala API view answers the same
      var scala =
          ((CairnReadJournalProvider.ScalaReadJournal)
              PersistenceQuery.get(system)
                  .readJournalFor(CairnReadJournal.IDENTIFIER, ConfigFactory.empty()));
      assertThat(scala).isNotNull();
    } finally {
      terminate(system);
    }
  }
}
