package io.cairn.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.LifecycleListener;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ConfigFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Validation of {@code cairn.route-tables} and the lifecycle listener that opens configured tables.
 */
class RoutingConfigTest {
  @TempDir Path dir;

  private Config fromFile(String text) {
    return ConfigFiles.load(dir, text);
  }

  private static List<ConfigProblem> validate(Config root) {
    return ConfigFiles.validate(new RoutingConfigValidator(), root);
  }

  @Test
  void validatorIsRegisteredForServiceLoader() {
    assertThat(ConfigFiles.registered(RoutingConfigValidator.class)).isTrue();
  }

  @Test
  void defaultsAreValidAndApplied() throws IOException {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.route-tables.catalog {}\n");
    assertThat(validate(root)).isEmpty();
    List<ConfigProblem> problems = new ArrayList<>();
    RoutingSettings s = RoutingSettings.read(root, "catalog", problems);
    assertThat(s)
        .isEqualTo(
            new RoutingSettings("catalog", "main", 10000, 2, java.time.Duration.ofSeconds(5)));
  }

  @Test
  void deprecatedDefaultsSpellingStillAppliesAndTheNewSpellingWins() throws IOException {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.routing-defaults { snapshot-every = 7, retain-snapshots = 3 }\n"
                + "cairn.route-table-defaults { retain-snapshots = 4 }\n"
                + "cairn.route-tables.catalog {}\n");
    assertThat(validate(root)).isEmpty();
    List<ConfigProblem> problems = new ArrayList<>();
    assertThat(RoutingSettings.read(root, "catalog", problems))
        .isEqualTo(new RoutingSettings("catalog", "main", 7, 4, java.time.Duration.ofSeconds(5)));
    assertThat(problems).isEmpty();
    assertThat(io.cairn.persistence.spi.Settings.deprecations(root))
        .anySatisfy(
            w ->
                assertThat(w)
                    .contains("cairn.routing-defaults (", "app.conf:2")
                    .contains("rename it to cairn.route-table-defaults"));
  }

  @Test
  void anUnknownKeyUnderTheDeprecatedDefaultsSpellingIsAProblem() throws IOException {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.routing-defaults { snapshot-evry = 7 }\n");
    assertThat(validate(root))
        .extracting(ConfigProblem::toString)
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("cairn.routing-defaults.snapshot-evry (")
                    .contains("app.conf:2")
                    .contains("did you mean 'snapshot-every'?"));
  }

  @Test
  void aSectionThatIsNotAnObjectIsOneProblem() throws IOException {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.route-tables = 5\n");
    List<ConfigProblem> problems = new ArrayList<>();
    assertThat(RoutingSettings.readAll(root, problems)).isEmpty();
    assertThat(problems)
        .singleElement()
        .satisfies(
            p ->
                assertThat(p.toString())
                    .startsWith("cairn.route-tables (")
                    .contains("an object of named route tables"));
  }

  @Test
  void everyProblemIsReportedWithPathAndFileLine() throws IOException {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.backends.other { type = memory, durability = none }\n"
                + "cairn.route-tables.catalog {\n"
                + "  backend = mian\n"
                + "  snapshot-evry = 10\n"
                + "  retain-snapshots = 0\n"
                + "}\n"
                + "cairn.route-tables.edge { backend = nowhere }\n"
                + "cairn.route-tables.blank { snapshot-every = 5 }\n");
    List<ConfigProblem> problems = validate(root);
    assertThat(problems)
        .extracting(ConfigProblem::toString)
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("cairn.route-tables.catalog.backend (")
                    .contains("app.conf:4")
                    .contains("did you mean 'main'?")
                    .contains("\"mian\""))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("cairn.route-tables.catalog.snapshot-evry (")
                    .contains("app.conf:5")
                    .contains("did you mean 'snapshot-every'?"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("cairn.route-tables.catalog.retain-snapshots (")
                    .contains("app.conf:6")
                    .contains("an integer from 1 to 100"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("cairn.route-tables.edge.backend (")
                    .contains("app.conf:8")
                    .contains("[main, other]"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .startsWith("cairn.route-tables.blank.backend (")
                    .contains("cairn.default-backend is empty"));
    assertThat(problems).hasSize(5);
  }

  @Test
  void openingATableWithBadSettingsThrowsConfigurationException() throws IOException {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.route-tables.catalog { backend = nope }\n");
    try (PersistenceRegistry registry = TestBackends.open(dir, root)) {
      assertThatThrownBy(() -> RouteTable.open(registry, "catalog"))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("cairn.route-tables.catalog.backend")
          .hasMessageContaining("app.conf:2");
    }
  }

  @Test
  void routeTablesListenerOpensConfiguredTablesInRoutingOrderAndClosesThem() throws IOException {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.routing.b {}\n"
                + "cairn.routing.a { snapshot-every = 3 }\n");
    RouteTables tables = new RouteTables();
    assertThat(tables.order()).isEqualTo(LifecycleListener.ORDER_ROUTING);
    RouteTable a;
    try (PersistenceRegistry registry =
        PersistenceRegistry.builder()
            .clock(TestBackends.CLOCK)
            .baseDirectory(dir)
            .listener(tables)
            .open(root)) {
      assertThat(tables.tables()).containsOnlyKeys("a", "b");
      a = tables.table("a");
      a.put(Route.of("x", "y"));
      assertThatThrownBy(() -> tables.table("c"))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("[a, b]");
    }
    assertThat(tables.tables()).isEmpty();
    assertThatThrownBy(() -> a.get("x")).hasMessageContaining("closed");
  }

  @Test
  void invalidSectionFailsRegistryOpenAndClosesEverything() throws IOException {
    Config root =
        fromFile(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.route-tables.a { retain-snapshots = many }\n");
    RouteTables tables = new RouteTables();
    assertThatThrownBy(
            () -> PersistenceRegistry.builder().baseDirectory(dir).listener(tables).open(root))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cairn.route-tables.a.retain-snapshots")
        .hasMessageContaining("app.conf:2");
  }
}
