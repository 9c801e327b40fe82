package io.cairn.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import io.cairn.config.CairnConfig;
import io.cairn.persistence.BackendConfigValidator;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.spi.Settings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * {@code cairn verify}: validates the configuration, then opens every backend whose data exists and
 * runs its checks. Exit 0 healthy, 1 problems found, 2 configuration or usage error.
 *
 * <p>Verify changes nothing it did not find: a backend whose data directory does not exist (or is
 * empty) is reported as "no data yet" and not opened, since opening would create the directory and
 * the engine's files wherever the configuration points. It always says what it checked, so a run
 * that found nothing to check is never mistaken for a healthy one.
 */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    header = "Check a configuration file and the data it points at.",
    description = {
      "Check a configuration file and the data it points at. Creates nothing:",
      "a backend whose data directory does not exist yet is reported as 'no data yet'.",
      "Beside a running service that holds a backend's lock, checks it read-only.",
      "Exit codes: 0 healthy, 1 problems found in data, 2 configuration or usage error,",
      "3 backend unavailable."
    },
    footer = {"", "Example:", "  cairn verify --config app.conf"})
final class VerifyCommand implements Callable<Integer> {
  @Mixin ConfigOption config;
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!config.named()) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          "no configuration to verify: name it with --config FILE (e.g. cairn verify --config"
              + " app.conf)");
    }
    Config loaded = config.load();
    for (String warning : CairnConfig.warnings(loaded)) {
      err.println("cairn: warning: " + warning);
    }
    Set<String> names = backendNames(loaded);
    if (names.isEmpty()) {
      throw new io.cairn.persistence.ConfigurationException(
          "Nothing to verify: "
              + config.describe()
              + " configures no backends (cairn.backends is empty). Cairn's settings go inside"
              + " cairn { }, e.g. cairn { backends { main { type = sqlite, data-dir ="
              + " \"data/main\" } } }.");
    }
    out.printf("Configuration %s: valid; %s%n", config.describe(), summary(loaded, names));
    Map<String, Path> dirs = BackendConfigValidator.dataDirectories(loaded, null);
    Config toOpen = loaded;
    Set<String> opened = new TreeSet<>(names);
    for (Map.Entry<String, Path> d : dirs.entrySet()) {
      if (!hasData(d.getValue())) {
        out.printf(
            "NO DATA  %s: %s %s (nothing stored yet; verify does not create it)%n",
            d.getKey(),
            d.getValue(),
            Files.isDirectory(d.getValue()) ? "is empty" : "does not exist");
        toOpen = toOpen.withoutPath(ConfigUtil.joinPath("cairn", "backends", d.getKey()));
        opened.remove(d.getKey());
      }
    }
    if (opened.isEmpty()) {
      out.flush();
      return CairnCommand.OK;
    }
    if (!opened.contains(toOpen.getString("cairn.default-backend"))) {
      toOpen = toOpen.withValue("cairn.default-backend", ConfigValueFactory.fromAnyRef(""));
    }
    int problems = 0;
    try (PersistenceRegistry registry = Cli.openForReading(toOpen, err)) {
      for (String name : registry.backendNames()) {
        StorageBackend backend = registry.backend(name);
        VerifyReport report;
        try (ProgressPrinter progress = Cli.progress(spec, "verify " + name, false)) {
          report = backend.verify(progress);
        }
        if (report.healthy()) {
          out.printf(
              "OK       %s (%s): %d checked, no problems%n",
              name, backend.type(), report.checked());
        } else {
          out.printf(
              "PROBLEMS %s (%s): %d problem(s)%n", name, backend.type(), report.problems().size());
          for (String p : report.problems()) {
            out.println("  - " + p);
          }
          problems += report.problems().size();
        }
      }
    } catch (StoreCorruptedException e) {
      out.println("PROBLEMS " + e.getMessage());
      return CairnCommand.PROBLEMS;
    }
    out.flush();
    return problems == 0 ? CairnCommand.OK : CairnCommand.PROBLEMS;
  }

  private static Set<String> backendNames(Config config) {
    return objectKeys(config, "cairn.backends");
  }

  private static Set<String> objectKeys(Config config, String path) {
    return config.hasPath(path) && config.getValue(path).valueType() == ConfigValueType.OBJECT
        ? new TreeSet<>(config.getObject(path).keySet())
        : Set.of();
  }

  /** "2 backends (a, b), 1 queue, 0 caches, 0 route tables": what was checked. */
  private static String summary(Config config, Set<String> backends) {
    Config c = Settings.withRenamedSections(config);
    return count(backends.size(), "backend")
        + " "
        + backends
        + ", "
        + count(objectKeys(c, "cairn.queues").size(), "queue")
        + ", "
        + count(objectKeys(c, "cairn.caches").size(), "cache")
        + ", "
        + count(objectKeys(c, "cairn.route-tables").size(), "route table");
  }

  private static String count(int n, String noun) {
    return n + " " + noun + (n == 1 ? "" : "s");
  }

  /** Whether {@code dir} exists and holds anything: otherwise there is nothing to verify. */
  static boolean hasData(Path dir) {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return false;
    }
    if (!Files.isDirectory(dir)) {
      return true; // not a directory: the backend's open names the problem
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.findAny().isPresent();
    } catch (IOException e) {
      return true; // let the backend open and report what is wrong with the directory
    }
  }
}
