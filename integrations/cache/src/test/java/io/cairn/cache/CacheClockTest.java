package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.CoarseClock;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which clock an L1 hit checks expiry against, and that expiry holds with the coarse one. */
class CacheClockTest {
  @TempDir Path dir;

  private PersistenceRegistry systemClockRegistry(String cache) {
    return PersistenceRegistry.builder()
        .baseDirectory(dir)
        .open(ConfigFactory.parseString("cairn.backends.b { type = memory }\n" + cache));
  }

  @Test
  void onTheSystemClockHitsUseTheCoarseClockAndEntriesStillExpire() throws InterruptedException {
    try (PersistenceRegistry r =
            systemClockRegistry("cairn.caches.c { backend = b, ttl = 200ms }");
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      assertThat(c.usesCoarseClock()).isTrue();
      long writtenAt = System.currentTimeMillis(); // before put: its expiry is at least +200
      c.put("k", "v");
      assertThat(c.getIfPresent("k")).isEqualTo("v");
      // the lag is about a millisecond; 10 s only bounds a starved machine
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (c.getIfPresent("k") != null && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(c.getIfPresent("k")).as("expired entry no longer served").isNull();
      assertThat(System.currentTimeMillis())
          .as("never dropped early")
          .isGreaterThanOrEqualTo(writtenAt + 200);
    }
    assertThat(CoarseClock.running()).as("released with cache and registry").isFalse();
  }

  @Test
  void exactClockWhenConfiguredOff() {
    try (PersistenceRegistry r =
            systemClockRegistry(
                "cairn.caches.c { backend = b, ttl = 1m, l1.coarse-clock = false }");
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      assertThat(c.usesCoarseClock()).isFalse();
      c.put("k", "v");
      assertThat(c.getIfPresent("k")).isEqualTo("v");
    }
  }

  @Test
  void exactClockWhenTheRegistryHasItsOwnClock() {
    try (PersistenceRegistry r =
            TestBackends.open(
                "memory",
                dir,
                new io.cairn.tck.ManualClock(),
                "cairn.caches.c { backend = b, ttl = 1m }\n");
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      assertThat(c.usesCoarseClock()).isFalse();
    }
  }
}
