package io.cairn.cli;

import com.typesafe.config.Config;
import io.cairn.config.CairnConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --config FILE} option shared by every subcommand that opens backends. */
final class ConfigOption {
  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description = "Configuration file: HOCON (.conf), JSON, Java properties or TOML.")
  Path file;

  /** Loads and validates the file, or the classpath configuration when no file was given. */
  Config load() {
    if (file != null) {
      return CairnConfig.loadAndValidate(file);
    }
    Config config = CairnConfig.load();
    CairnConfig.validate(config);
    return config;
  }

  /** Whether a configuration was named: {@code --config} or {@code -Dconfig.file}. */
  boolean named() {
    return file != null || System.getProperty("config.file") != null;
  }

  /** The configuration's name for messages. */
  String describe() {
    if (file != null) {
      return file.toString();
    }
    String property = System.getProperty("config.file");
    return property != null ? property : "the classpath configuration (application.conf)";
  }
}
