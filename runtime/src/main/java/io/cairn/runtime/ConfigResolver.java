package io.cairn.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.config.CairnConfig;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.spi.Settings;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the configuration given to {@link Cairn#builder} into the one a {@link Cairn} runs on:
 * reference defaults of every module on the class path added, substitutions resolved, the whole
 * tree validated (every registered section validator), deprecated section spellings moved to their
 * new paths. Every problem is collected first, so one {@link ConfigurationException} lists them
 * all.
 */
final class ConfigResolver {
  private ConfigResolver() {}

  /**
   * The resolved, validated configuration.
   *
   * @throws ConfigurationException listing every problem with path and file:line
   */
  static Config resolve(Config config, Codecs codecs) {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    Config resolved;
    try {
      resolved =
          config
              .withFallback(
                  loader != null
                      ? ConfigFactory.defaultReference(loader)
                      : ConfigFactory.defaultReference())
              .resolve();
    } catch (com.typesafe.config.ConfigException e) {
      throw new ConfigurationException(
          "Cannot resolve the Cairn configuration: " + e.getMessage(), e);
    }
    List<ConfigProblem> problems = new ArrayList<>();
    try {
      CairnConfig.validate(resolved);
    } catch (ConfigurationException e) {
      if (e.problems().isEmpty()) {
        throw e;
      }
      problems.addAll(e.problems());
    }
    // one spelling from here on: entries of deprecated sections move to their new names
    resolved = Settings.withRenamedSections(resolved);
    codecs.check(resolved, problems);
    Settings.throwIfAny(problems);
    return resolved;
  }
}
