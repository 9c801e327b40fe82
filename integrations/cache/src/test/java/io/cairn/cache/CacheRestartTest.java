package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** L2 entries survive a restart; an entry whose TTL passed while down is never served. */
class CacheRestartTest {
  private static final String CACHE = "cairn.caches.c { backend = b, ttl = 10m }\n";

  @TempDir Path dir;
  final ManualClock clock = new ManualClock();
  final AtomicInteger loads = new AtomicInteger();

  private String load(String k) {
    loads.incrementAndGet();
    return "loaded:" + k;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#durableTypesWithPostgres")
  void entriesComeBackAfterRestartWithTheirTtl(String type) {
    TieredCaches caches = new TieredCaches();
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, CACHE, caches)) {
      TieredCache<String, String> c = caches.cache("c", Codec.utf8(), Codec.utf8());
      c.put("early", "e");
      clock.advance(Duration.ofMinutes(6));
      c.put("late", "l");
    }
    clock.advance(Duration.ofMinutes(3)); // down for 3 minutes: "early" has 1 minute left
    TieredCaches again = new TieredCaches();
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, CACHE, again)) {
      TieredCache<String, String> c = again.cache("c", Codec.utf8(), Codec.utf8());
      assertThat(c.get("early", this::load)).isEqualTo("e");
      assertThat(c.get("late", this::load)).isEqualTo("l");
      assertThat(loads).hasValue(0);
      assertThat(c.stats().l2Hits()).isEqualTo(2);
      clock.advance(Duration.ofMinutes(1));
      assertThat(c.get("early", this::load))
          .as("L1 copy expires with the stored TTL")
          .isEqualTo("loaded:early");
      assertThat(c.get("late", this::load)).isEqualTo("l");
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#durableTypesWithPostgres")
  void entryWhoseTtlPassedWhileDownIsNeverServed(String type) {
    TieredCaches caches = new TieredCaches();
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, CACHE, caches)) {
      caches.raw("c").put("k", new byte[] {1});
    }
    clock.advance(Duration.ofMinutes(11));
    TieredCaches again = new TieredCaches();
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, CACHE, again)) {
      TieredCache<String, byte[]> c = again.raw("c");
      assertThat(c.getIfPresent("k")).isNull();
      assertThat(c.warmFromL2(100, (p, d, t) -> {})).isZero();
      assertThat(r.backend("b").keyValue("cache.c").approximateCount())
          .as("purged on open by TieredCaches")
          .isZero();
    }
  }
}
