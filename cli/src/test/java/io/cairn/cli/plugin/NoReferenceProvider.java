package io.cairn.cli.plugin;

import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Settings;
import io.cairn.persistence.spi.StorageBackendProvider;

/**
 * A third-party backend whose author forgot {@code reference.conf}: it reads {@code endpoint},
 * which nothing declares. Packed into a plugin jar by {@code CliJarIT}.
 */
public final class NoReferenceProvider implements StorageBackendProvider {
  @Override
  public String type() {
    return "noref";
  }

  @Override
  public void validate(Settings settings) {
    settings.string("endpoint", "");
  }

  @Override
  public StorageBackend open(BackendContext context) {
    throw new UnsupportedOperationException("never opened: its configuration is refused");
  }
}
