package io.cairn.pekko;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.config.CairnConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.Props;
import org.apache.pekko.pattern.Patterns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration shown in docs/pekko.md validates with cairn-config and runs. */
class DocsExampleTest {
  @TempDir Path dir;

  /** The first {@code ```hocon} block of docs/pekko.md. */
  static String firstHoconBlock() throws Exception {
    String doc = Files.readString(Path.of("../../docs/pekko.md"));
    int start = doc.indexOf("```hocon\n") + "```hocon\n".length();
    return doc.substring(start, doc.indexOf("```", start));
  }

  @Test
  void theDocumentedConfigurationValidatesAndPersists() throws Exception {
    Config config =
        ConfigFactory.parseString(
                "cairn.backends.events.data-dir = \""
                    + dir.resolve("events").toString().replace("\\", "/")
                    + "\"")
            .withFallback(ConfigFactory.parseString(firstHoconBlock()))
            .withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING"));
    CairnConfig.validate(config.withFallback(ConfigFactory.defaultReference()).resolve());
    // the check is live: a misspelt key under cairn.pekko is reported
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                CairnConfig.validate(
                    ConfigFactory.parseString("cairn.pekko.journal.backnd = events")
                        .withFallback(config)
                        .withFallback(ConfigFactory.defaultReference())
                        .resolve()))
        .hasMessageContaining("cairn.pekko.journal.backnd");
    ActorSystem system = ActorSystem.create("docs", config);
    try {
      ActorRef a = system.actorOf(Props.create(PekkoPluginTest.Recorder.class, "docs"));
      assertThat(
              Patterns.ask(a, "e1", java.time.Duration.ofSeconds(60))
                  .toCompletableFuture()
                  .get(60, TimeUnit.SECONDS))
          .isEqualTo("ok");
      assertThat(CairnPekko.get(system).registry().backendNames()).containsExactly("events");
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }
}
