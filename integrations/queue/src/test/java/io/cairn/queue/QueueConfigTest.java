package io.cairn.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ConfigFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Validation of {@code cairn.queues}: paths, file:line, did-you-mean, unknown backends. */
class QueueConfigTest {
  @TempDir Path dir;

  private Config load(String text) {
    return ConfigFiles.load(dir, text);
  }

  private static List<ConfigProblem> validate(Config root) {
    return ConfigFiles.validate(new QueueConfigValidator(), root);
  }

  @Test
  void validatorIsRegisteredForServiceLoader() {
    assertThat(ConfigFiles.registered(QueueConfigValidator.class)).isTrue();
  }

  @Test
  void referenceDefaultsAreValidAndApplied() throws Exception {
    Config root = load("cairn.backends.main { type = memory }\ncairn.queues.orders {}\n");
    List<ConfigProblem> problems = new ArrayList<>();
    QueueSettings s = QueueSettings.read(root, "orders", problems);
    assertThat(problems).isEmpty();
    assertThat(s.backend()).isEqualTo("main");
    assertThat(s.visibilityTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.maxAttempts()).isEqualTo(5);
    assertThat(s.backoff(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(s.backoff(3)).isEqualTo(Duration.ofSeconds(4));
    assertThat(s.backoff(100)).isEqualTo(Duration.ofMinutes(5));
  }

  @Test
  void everyProblemHasPathFileLineAndAHint() throws Exception {
    Config root =
        load(
            "cairn.backends.main { type = memory }\n"
                + "cairn.queues.orders {\n"
                + "  backend = mian\n"
                + "  visibilty-timeout = 30s\n"
                + "  max-attempts = 0\n"
                + "  backoff-initial = soon\n"
                + "}\n");
    List<ConfigProblem> problems = validate(root);
    assertThat(problems).hasSize(4);
    assertThat(problems)
        .anySatisfy(
            p -> {
              assertThat(p.path()).isEqualTo("cairn.queues.orders.backend");
              assertThat(p.origin()).endsWith("app.conf:3");
              assertThat(p.expected()).contains("did you mean 'main'");
              assertThat(p.found()).contains("mian");
            })
        .anySatisfy(
            p -> {
              assertThat(p.path()).isEqualTo("cairn.queues.orders.visibilty-timeout");
              assertThat(p.origin()).endsWith("app.conf:4");
              assertThat(p.expected()).contains("did you mean 'visibility-timeout'");
            })
        .anySatisfy(
            p -> {
              assertThat(p.path()).isEqualTo("cairn.queues.orders.max-attempts");
              assertThat(p.origin()).endsWith("app.conf:5");
            })
        .anySatisfy(p -> assertThat(p.path()).isEqualTo("cairn.queues.orders.backoff-initial"));
  }

  @Test
  void emptyBackendNeedsADefaultWhenSeveralAreConfigured() throws Exception {
    Config root =
        load(
            "cairn.backends { a { type = memory }, b { type = memory } }\n"
                + "cairn.queues.q {}\n");
    assertThat(validate(root))
        .singleElement()
        .satisfies(p -> assertThat(p.expected()).contains("cairn.default-backend"));
    Config withDefault =
        load(
            "cairn.backends { a { type = memory }, b { type = memory } }\n"
                + "cairn.default-backend = b\n"
                + "cairn.queues.q {}\n");
    assertThat(validate(withDefault)).isEmpty();
  }

  @Test
  void registryOpenFailsWithEveryProblemAndNothingOpen() throws Exception {
    Path file = dir.resolve("bad.conf");
    Files.writeString(
        file,
        "cairn.backends.main { type = memory }\n"
            + "cairn.queues.orders { backend = nope }\n"
            + "cairn.queues.bad = 5\n");
    DurableQueues queues = new DurableQueues();
    assertThatThrownBy(
            () ->
                PersistenceRegistry.builder()
                    .baseDirectory(dir)
                    .listener(queues)
                    .open(ConfigFactory.parseFile(file.toFile())))
        .isInstanceOf(ConfigurationException.class)
        .satisfies(
            e -> {
              List<ConfigProblem> ps = ((ConfigurationException) e).problems();
              assertThat(ps)
                  .extracting(ConfigProblem::path)
                  .containsExactlyInAnyOrder("cairn.queues.bad", "cairn.queues.orders.backend");
              assertThat(e.getMessage()).contains("bad.conf:2");
            });
    assertThat(queues.names()).isEmpty();
  }

  @Test
  void openingAnUnconfiguredQueueSuggestsTheNearestName() throws Exception {
    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(
                ConfigFactory.parseString(
                    "cairn.backends.main { type = memory }\ncairn.queues.orders {}"))) {
      assertThatThrownBy(() -> DurableQueue.openRaw(r, "order"))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("cairn.queues.order")
          .hasMessageContaining("did you mean 'orders'");
    }
  }
}
