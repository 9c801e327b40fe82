package io.cairn.tck;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.ConfigSectionValidator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Configuration as a test of a config section validator needs it: read from a real file, so
 * problems carry {@code file:line}, over the modules' {@code reference.conf}, resolved. Not
 * thread-safe per directory (each call rewrites {@code app.conf}).
 */
public final class ConfigFiles {
  private ConfigFiles() {}

  /**
   * Writes {@code text} to {@code dir/app.conf} and parses it with the classpath's reference
   * configuration as fallback.
   *
   * @throws UncheckedIOException if the file cannot be written
   */
  public static Config load(Path dir, String text) {
    Path file = dir.resolve("app.conf");
    try {
      Files.writeString(file, text);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write test configuration " + file, e);
    }
    return ConfigFactory.parseFile(file.toFile())
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  /** The problems {@code validator} reports for {@code root}. */
  public static List<ConfigProblem> validate(ConfigSectionValidator validator, Config root) {
    List<ConfigProblem> problems = new ArrayList<>();
    validator.validate(root, problems);
    return problems;
  }

  /** Whether {@code type} is registered for {@link ServiceLoader} (META-INF/services). */
  public static boolean registered(Class<? extends ConfigSectionValidator> type) {
    return ServiceLoader.load(ConfigSectionValidator.class).stream()
        .anyMatch(p -> p.type().getName().equals(type.getName()));
  }
}
