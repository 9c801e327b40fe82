package io.cairn.cache;

import io.cairn.persistence.spi.CoarseClock;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Registered for every test of this module (junit-platform.properties turns on extension
 * auto-detection): fails the test after which the JVM-wide coarse clock or L1 sweeper still runs.
 * Their lifetime is reference-counted by the caches that use them, so a running one means a cache
 * (or registry) the test did not close; left alone it would fail a later test that checks they
 * stop, far from the cause.
 */
public final class NoSharedThreadOutlivesATest implements AfterEachCallback {
  @Override
  public void afterEach(ExtensionContext context) {
    if (CoarseClock.running() || L1Sweeper.running()) {
      throw new AssertionError(
          context.getDisplayName()
              + " left a cache open: coarse clock running "
              + CoarseClock.running()
              + ", L1 sweeper running "
              + L1Sweeper.running()
              + " (close every TieredCache and registry, also when an assertion fails)");
    }
  }
}
