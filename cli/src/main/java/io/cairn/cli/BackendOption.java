package io.cairn.cli;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigurationException;
import picocli.CommandLine.Option;

/**
 * {@code --backend NAME}: which configured backend a command works on. Optional when the
 * configuration has exactly one backend (or names {@code cairn.default-backend}).
 */
final class BackendOption {
  @Option(
      names = {"-b", "--backend"},
      paramLabel = "NAME",
      description = "The backend (a name under cairn.backends); default: the only or default one.")
  String name;

  /** The chosen backend's name, checked against {@code config}. */
  String resolve(Config config) {
    if (name != null) {
      Cli.requireBackend(config, name);
      return name;
    }
    var names =
        config.hasPath("cairn.backends")
            ? config.getObject("cairn.backends").keySet()
            : java.util.Set.<String>of();
    if (names.size() == 1) {
      return names.iterator().next();
    }
    if (config.hasPath("cairn.default-backend")
        && names.contains(config.getString("cairn.default-backend"))) {
      return config.getString("cairn.default-backend");
    }
    throw new ConfigurationException(
        "Name the backend with --backend NAME; the configuration has " + names);
  }
}
