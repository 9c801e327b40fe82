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

/** Validation of {@code cairn.raft-groups} and opening a group by name. */
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
            "cairn.backends.main { type = memory, durability = none }\ncairn.raft-groups.orders {}\n");
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
                + "cairn.raft-groups.orders {\n"
                + "  backend = mian\n"
                + "  snapshot-chunk-sise = 1MiB\n"
                + "  snapshot-chunk-size = 100B\n"
                + "}\n"
                + "cairn.raft-groups.big { backend = main, snapshot-chunk-size = 65MiB }\n");
    List<ConfigProblem> problems = validate(root);
    assertThat(problems)
        .extracting(ConfigProblem::toString)
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("cairn.raft-groups.orders.backend (")
                    .contains("app.conf:4")
                    .contains("did you mean 'main'?"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("cairn.raft-groups.orders.snapshot-chunk-sise (")
                    .contains("did you mean 'snapshot-chunk-size'?"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("cairn.raft-groups.orders.snapshot-chunk-size (")
                    .contains("at least 1KiB"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("cairn.raft-groups.big.snapshot-chunk-size (")
                    .contains("64MiB"));
    assertThat(problems).hasSize(4);
  }

  @Test
  void openingAGroupUsesItsSettingsAndRejectsBadOnes() {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.raft-groups.orders { snapshot-chunk-size = 2KiB }\n"
                + "cairn.raft-groups.broken { backend = nope }\n");
    try (PersistenceRegistry registry = open(root)) {
      RaftStorage st = RaftStorage.open(registry, "orders");
      st.persistSnapshotChunk(new RaftSnapshotChunk(1, 1, 0, 2, new byte[2048]));
      assertThatThrownBy(
              () -> st.persistSnapshotChunk(new RaftSnapshotChunk(1, 1, 1, 2, new byte[2049])))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("2049 bytes")
          .hasMessageContaining("cairn.raft-groups.orders.snapshot-chunk-size");
      assertThat(st.restore().snapshot()).isEmpty();
      assertThat(registry.metrics().getTimers()).containsKey("cairn.raft-groups.orders.persist");
      assertThatThrownBy(() -> RaftStorage.open(registry, "broken"))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("cairn.raft-groups.broken.backend")
          .hasMessageContaining("app.conf:3");
    }
  }

  @Test
  void theDeprecatedSpellingStillLoadsWithAWarningNamingTheNewPath() {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.raft.orders { snapshot-chunk-size = 2KiB }\n"
                + "cairn.raft-groups.audit {}\n");
    assertThat(validate(root)).isEmpty();
    assertThat(RaftGroups.names(root)).containsExactly("audit", "orders");
    assertThat(RaftGroups.settings(root, "orders"))
        .isEqualTo(new RaftSettings("orders", "main", 2048));
    assertThat(RaftGroups.all(root))
        .extracting(RaftSettings::group)
        .containsExactly("audit", "orders");
    assertThat(io.cairn.persistence.spi.Settings.deprecations(root))
        .singleElement()
        .satisfies(
            w ->
                assertThat(w)
                    .startsWith("cairn.raft (")
                    .contains("app.conf:2")
                    .contains("is deprecated: rename it to cairn.raft-groups"));
    try (PersistenceRegistry registry = open(root)) {
      RaftStorage st = RaftStorage.open(registry, "orders");
      assertThatThrownBy(
              () -> st.persistSnapshotChunk(new RaftSnapshotChunk(1, 1, 0, 1, new byte[2049])))
          .hasMessageContaining("cairn.raft-groups.orders.snapshot-chunk-size");
    }
  }

  @Test
  void badSettingsThroughThePublicEntryPointThrowNamingThePath() {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.raft-groups.orders { backend = nope }\n");
    assertThatThrownBy(() -> RaftGroups.all(root))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cairn.raft-groups.orders.backend")
        .hasMessageContaining("app.conf:2");
    assertThat(RaftGroups.names(fromFile("cairn.backends.main { type = memory }\n"))).isEmpty();
  }
}
