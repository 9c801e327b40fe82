package io.cairn.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ConfigFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Validation of {@code cairn.raft} and opening a group by name. */
class RaftConfigTest {
  @TempDir Path dir;

  private Config fromFile(String text) {
    return ConfigFiles.load(dir, text);
  }

  private static List<ConfigProblem> validate(Config root) {
    return ConfigFiles.validate(new RaftConfigValidator(), root);
  }

  private PersistenceRegistry open(Config root) {
    return PersistenceRegistry.builder().baseDirectory(dir).open(root);
  }

  @Test
  void validatorIsRegisteredForServiceLoader() {
    assertThat(ConfigFiles.registered(RaftConfigValidator.class)).isTrue();
  }

  @Test
  void defaultsAreValidAndApplied() {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\ncairn.raft.orders {}\n");
    assertThat(validate(root)).isEmpty();
    List<ConfigProblem> problems = new ArrayList<>();
    assertThat(RaftSettings.read(root, "orders", problems))
        .isEqualTo(new RaftSettings("orders", "main", 16 << 20));
    assertThat(RaftSettings.read(root, "unlisted", problems))
        .isEqualTo(new RaftSettings("unlisted", "main", 16 << 20));
    assertThat(problems).isEmpty();
  }

  @Test
  void everyProblemIsReportedWithPathAndFileLine() {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.backends.other { type = memory, durability = none }\n"
                + "cairn.raft.orders {\n"
                + "  backend = mian\n"
                + "  snapshot-chunk-sise = 1MiB\n"
                + "  snapshot-chunk-size = 100B\n"
                + "}\n"
                + "cairn.raft.big { backend = main, snapshot-chunk-size = 65MiB }\n");
    List<ConfigProblem> problems = validate(root);
    assertThat(problems)
        .extracting(ConfigProblem::toString)
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("cairn.raft.orders.backend (")
                    .contains("app.conf:4")
                    .contains("did you mean 'main'?"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("cairn.raft.orders.snapshot-chunk-sise (")
                    .contains("did you mean 'snapshot-chunk-size'?"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("cairn.raft.orders.snapshot-chunk-size (")
                    .contains("at least 1KiB"))
        .anySatisfy(
            p ->
                assertThat(p).startsWith("cairn.raft.big.snapshot-chunk-size (").contains("64MiB"));
    assertThat(problems).hasSize(4);
  }

  @Test
  void openingAGroupUsesItsSettingsAndRejectsBadOnes() {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.raft.orders { snapshot-chunk-size = 2KiB }\n"
                + "cairn.raft.broken { backend = nope }\n");
    try (PersistenceRegistry registry = open(root)) {
      RaftStorage st = RaftStorage.open(registry, "orders");
      st.persistSnapshotChunk(new RaftSnapshotChunk(1, 1, 0, 2, new byte[2048]));
      assertThatThrownBy(
              () -> st.persistSnapshotChunk(new RaftSnapshotChunk(1, 1, 1, 2, new byte[2049])))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("2049 bytes")
          .hasMessageContaining("cairn.raft.orders.snapshot-chunk-size");
      assertThat(st.restore().snapshot()).isEmpty();
      assertThat(registry.metrics().getTimers()).containsKey("cairn.raft.orders.persist");
      assertThatThrownBy(() -> RaftStorage.open(registry, "broken"))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("cairn.raft.broken.backend")
          .hasMessageContaining("app.conf:3");
    }
  }
}
