package io.cairn.pekko;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Props;
import org.apache.pekko.persistence.AbstractPersistentActor;
import org.apache.pekko.persistence.RecoveryCompleted;

/**
 * The child JVM of {@link CrashRecoveryTest}: one persistent actor per backend (SQLite and RocksDB
 * journals in one actor system), each persisting event {@code n + 1} after event {@code n} as fast
 * as the journal acknowledges, until the parent kills the process with SIGKILL.
 *
 * <p>Prints {@code RECOVERED <backend> <count> <ok|detail>} once recovery completes, where {@code
 * ok} means the replayed events were exactly 1, 2, ..., count in order (none missing, none twice),
 * and {@code ACK <backend> <n>} after event {@code n}'s persist handler ran (the journal
 * acknowledged it, i.e. it is committed at the backend's durability).
 */
public final class CrashChild {
  private CrashChild() {}

  static Config config(Path dir) {
    return ConfigFactory.parseString(
            String.join(
                "\n",
                "pekko.loglevel = WARNING",
                "pekko.persistence.journal.plugin = cairn.pekko.journal",
                "pekko.persistence.snapshot-store.plugin = cairn.pekko.snapshot-store",
                "cairn.pekko.journal.backend = sqlite",
                "cairn.pekko.snapshot-store.backend = sqlite",
                "cairn.pekko.journal-rocksdb = ${cairn.pekko.journal} { backend = rocksdb }",
                "cairn.backends.sqlite {",
                "  type = sqlite, durability = normal",
                "  data-dir = \"" + dir.resolve("sqlite").toString().replace("\\", "/") + "\"",
                "}",
                "cairn.backends.rocksdb {",
                "  type = rocksdb, durability = normal",
                "  data-dir = \"" + dir.resolve("rocksdb").toString().replace("\\", "/") + "\"",
                "}"))
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  public static void main(String[] args) {
    ActorSystem system = ActorSystem.create("crash", config(Path.of(args[0])));
    system.actorOf(Props.create(Counter.class, "sqlite", "cairn.pekko.journal"), "sqlite");
    system.actorOf(Props.create(Counter.class, "rocksdb", "cairn.pekko.journal-rocksdb"), "rocks");
  }

  /** Persists 1, 2, 3, ... and checks on recovery that it replays exactly that. */
  static final class Counter extends AbstractPersistentActor {
    private final String backend;
    private final String journal;
    private long count;
    private String problem;

    Counter(String backend, String journal) {
      this.backend = backend;
      this.journal = journal;
    }

    @Override
    public String persistenceId() {
      return "counter-" + backend;
    }

    @Override
    public String journalPluginId() {
      return journal;
    }

    @Override
    public Receive createReceiveRecover() {
      return receiveBuilder()
          .match(
              Long.class,
              n -> {
                if (problem == null && n != count + 1) {
                  problem = "replayed " + n + " after " + count;
                }
                count = n;
              })
          .match(
              RecoveryCompleted.class,
              rc -> {
                System.out.println(
                    "RECOVERED "
                        + backend
                        + " "
                        + count
                        + " "
                        + (problem == null ? "ok" : problem));
                self().tell("next", self());
              })
          .build();
    }

    @Override
    public Receive createReceive() {
      return receiveBuilder()
          .matchEquals(
              "next",
              m ->
                  persist(
                      count + 1,
                      n -> {
                        count = n;
                        System.out.println("ACK " + backend + " " + n);
                        self().tell("next", self());
                      }))
          .build();
    }
  }
}
