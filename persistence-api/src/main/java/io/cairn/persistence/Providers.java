package io.cairn.persistence;

import io.cairn.persistence.spi.StorageBackendProvider;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** Finds backend providers through ServiceLoader. */
final class Providers {
  private Providers() {}

  static Map<String, StorageBackendProvider> load(ClassLoader loader) {
    Map<String, StorageBackendProvider> byType = new TreeMap<>();
    ServiceLoader<StorageBackendProvider> sl =
        ServiceLoader.load(
            StorageBackendProvider.class,
            loader != null ? loader : Providers.class.getClassLoader());
    try {
      for (StorageBackendProvider p : sl) {
        StorageBackendProvider previous = byType.putIfAbsent(p.type(), p);
        if (previous != null && previous.getClass() != p.getClass()) {
          throw new ConfigurationException(
              "Two backend providers claim type '"
                  + p.type()
                  + "': "
                  + previous.getClass().getName()
                  + " and "
                  + p.getClass().getName()
                  + ". Remove one of the jars from the classpath.");
        }
      }
    } catch (ServiceConfigurationError e) {
      throw new ConfigurationException(
          "A backend provider listed in META-INF/services/"
              + StorageBackendProvider.class.getName()
              + " could not be loaded: "
              + e.getMessage(),
          e);
    }
    return byType;
  }
}
