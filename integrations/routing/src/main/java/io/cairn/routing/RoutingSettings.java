package io.cairn.routing;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.Settings;
import java.util.List;

/**
 * The validated settings of one route table, read from {@code cairn.route-tables.<name>} over
 * {@code cairn.route-table-defaults} (or the deprecated {@code cairn.routing-defaults}). The one
 * place these keys are read.
 *
 * @param name the table name
 * @param backend the backend holding the table (resolved from the default when not set)
 * @param snapshotEvery changes between snapshots
 * @param retainSnapshots snapshots kept
 * @param followInterval on a multi-process backend, how often to check the log for other instances'
 *     changes (zero: only on notifications)
 */
record RoutingSettings(
    String name,
    String backend,
    int snapshotEvery,
    int retainSnapshots,
    java.time.Duration followInterval) {
  static final String ROUTING = "cairn.route-tables";
  static final String DEFAULTS = "cairn.route-table-defaults";
  private static final Settings.NamedSection SECTION =
      new Settings.NamedSection(
          ROUTING,
          DEFAULTS,
          "route table",
          "{ backend = main, snapshot-every = 10000 }",
          120,
          false);

  /** Store name of the table's log and snapshot set. */
  String storeName() {
    return "routing." + name;
  }

  /**
   * Every table configured under {@code cairn.route-tables}, validated; problems added, not thrown.
   */
  static List<RoutingSettings> readAll(Config root, List<ConfigProblem> problems) {
    // the deprecated spelling cairn.routing is renamed by the helper
    return Settings.readNamedSections(
        root,
        ROUTING,
        "route tables such as catalog { backend = main }",
        problems,
        RoutingSettings::read);
  }

  /**
   * The settings of table {@code name}, or {@code null} after adding problems if they are invalid.
   * A table that is not configured gets the defaults.
   */
  static RoutingSettings read(Config root, String name, List<ConfigProblem> problems) {
    root = Settings.withRenamedSections(root); // cairn.routing: deprecated spelling
    int before = problems.size();
    Settings s = SECTION.read(root, name, problems);
    if (s == null) {
      return null;
    }
    int snapshotEvery = s.intBetween("snapshot-every", 1, Integer.MAX_VALUE, 10000);
    int retain = s.intBetween("retain-snapshots", 1, 100, 2);
    java.time.Duration follow =
        s.duration("follow-interval", java.time.Duration.ZERO, java.time.Duration.ofSeconds(5));
    String resolved = s.backendReference(root, "backend");
    if (problems.size() > before) {
      return null;
    }
    return new RoutingSettings(name, resolved, snapshotEvery, retain, follow);
  }
}
