package io.cairn.pekko;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.spi.ArgumentChecks;

/** Settings shared by the journal, snapshot store and read journal plugin sections. */
record PluginSettings(String path, String backend, String namespace) {
  static PluginSettings read(Config config, String path) {
    String backend = string(config, path, "backend");
    String namespace = string(config, path, "namespace");
    try {
      ArgumentChecks.check("key-value namespace", namespace);
    } catch (IllegalArgumentException e) {
      throw new ConfigurationException(path + ".namespace: " + e.getMessage(), e);
    }
    return new PluginSettings(path, backend, namespace);
  }

  static String string(Config config, String path, String key) {
    try {
      return config.getString(key);
    } catch (com.typesafe.config.ConfigException e) {
      throw new ConfigurationException(
          path
              + "."
              + key
              + ": "
              + e.getMessage()
              + ". See cairn-pekko's reference.conf for the expected keys.",
          e);
    }
  }
}
