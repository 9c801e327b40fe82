package io.cairn.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigOrigin;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.spi.Settings;

/**
 * The one place where Typesafe Config exceptions become {@link ConfigurationException}s: the
 * message names what went wrong, the file and line (from the exception's origin) and the parser's
 * own explanation of what it expected.
 */
final class ConfigErrors {
  private ConfigErrors() {}

  /**
   * @param e the exception from parsing or resolving
   * @param what what was being read, named when the exception has no origin, e.g. {@code HOCON file
   *     app.conf}
   */
  static ConfigurationException translate(ConfigException e, String what) {
    ConfigOrigin origin = e.origin();
    String where = origin != null ? Settings.origin(origin) : what;
    String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (origin != null && detail.startsWith(origin.description() + ": ")) {
      detail = detail.substring(origin.description().length() + 2);
    }
    String kind;
    String advice;
    if (e instanceof ConfigException.UnresolvedSubstitution) { // a subclass of Parse
      kind = "Unresolved substitution in ";
      advice = "Define the referenced setting or environment variable, or use ${?name}.";
    } else if (e instanceof ConfigException.Parse) {
      kind = "Syntax error in ";
      advice = "Fix the file and try again.";
    } else if (e instanceof ConfigException.IO) {
      kind = "Cannot read ";
      advice = "Check that the file exists and is readable.";
    } else {
      kind = "Invalid configuration in ";
      advice = "Fix the setting and try again.";
    }
    return new ConfigurationException(
        kind + where + ": " + detail + (detail.endsWith(".") ? " " : ". ") + advice, e);
  }
}
