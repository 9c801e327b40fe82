package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.time.Clock;
import java.time.ZoneId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The shared coarse clock: bounded lag, never ahead, and a refresher that dies with its users. */
class CoarseClockTest {

  @AfterEach
  void noRefresherLeftBehind() {
    assertThat(CoarseClock.running()).as("refresher stopped after the last release").isFalse();
    assertThat(refresherThreadAlive()).isFalse();
  }

  @Test
  void neverAheadOfTheSystemClockAndKeepsUp() throws InterruptedException {
    CoarseClock c = CoarseClock.acquire();
    try {
      long first = c.getAsLong();
      for (int i = 0; i < 1_000; i++) {
        long coarse = c.getAsLong();
        assertThat(coarse).isLessThanOrEqualTo(System.currentTimeMillis());
        assertThat(coarse).as("monotone reads").isGreaterThanOrEqualTo(first);
      }
      long target = System.currentTimeMillis() + 50;
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (c.getAsLong() < target && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      assertThat(c.getAsLong())
          .as("the refresher advances the clock")
          .isGreaterThanOrEqualTo(target);
    } finally {
      c.release();
    }
  }

  @Test
  void oneRefresherSharedByReferenceCount() {
    CoarseClock a = CoarseClock.acquire();
    CoarseClock b = CoarseClock.acquire();
    assertThat(b).isSameAs(a);
    a.release();
    assertThat(CoarseClock.running()).as("one user left").isTrue();
    assertThat(refresherThreadAlive()).isTrue();
    b.release();
    assertThatThrownBy(b::release).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void mirrorsOnlyTheSystemClock() {
    assertThat(CoarseClock.mirrors(Clock.systemUTC())).isTrue();
    assertThat(CoarseClock.mirrors(Clock.system(ZoneId.of("Europe/Paris")))).isTrue();
    assertThat(CoarseClock.mirrors(new ManualClock())).isFalse();
  }

  @Test
  void aCacheOnTheSystemClockUsesItAndStillExpiresEntries() throws InterruptedException {
    try (PersistenceRegistry r =
        PersistenceRegistry.open(
            ConfigFactory.parseString(
                "cairn.backends.b { type = memory }\ncairn.cache.c { backend = b, ttl = 200ms }"))) {
      try (TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
        assertThat(CoarseClock.running()).isTrue();
        c.put("k", "v");
        long writtenAt = System.currentTimeMillis();
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
    }
  }

  @Test
  void exactClockWhenConfiguredOff() {
    try (PersistenceRegistry r =
        PersistenceRegistry.open(
            ConfigFactory.parseString(
                "cairn.backends.b { type = memory }\n"
                    + "cairn.cache.c { backend = b, ttl = 1m, l1.coarse-clock = false }"))) {
      try (TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
        assertThat(CoarseClock.running()).isFalse();
        c.put("k", "v");
        assertThat(c.getIfPresent("k")).isEqualTo("v");
      }
    }
  }

  private static boolean refresherThreadAlive() {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals(CoarseClock.THREAD_NAME) && t.isAlive());
  }
}
