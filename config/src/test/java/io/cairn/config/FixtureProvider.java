package io.cairn.config;

import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Settings;
import io.cairn.persistence.spi.StorageBackendProvider;

/**
 * Test-only provider of type {@code fixture}, so that validation tests have a known backend type
 * with one type-specific setting ({@code cache-size}, declared in this source set's {@code
 * reference.conf}) without depending on a real backend module. It only validates: {@link #open}
 * refuses, because these tests never open a backend.
 */
public final class FixtureProvider implements StorageBackendProvider {
  @Override
  public String type() {
    return "fixture";
  }

  @Override
  public void validate(Settings settings) {
    settings.bytes("cache-size", 4096, 8L << 20);
    settings.duration(
        "flush-interval", java.time.Duration.ofMillis(1), java.time.Duration.ofSeconds(1));
    settings.string("token", "");
  }

  @Override
  public StorageBackend open(BackendContext context) {
    throw new UnsupportedOperationException(
        "The config module's fixture provider only validates settings; it cannot open "
            + context.describe());
  }
}
