package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Tags (issue 16): invalidateTag drops tagged entries in every tier, also across a restart. */
class TagInvalidationTest {
  private static final String CACHE = "cairn.caches.c { backend = b, ttl = 1h }\n";

  @TempDir Path dir;
  final ManualClock clock = new ManualClock();
  final AtomicInteger loads = new AtomicInteger();

  private String load(String k) {
    loads.incrementAndGet();
    return "loaded:" + k;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#typesWithPostgres")
  void invalidateTagDropsTaggedEntriesFromEveryTierAtOnce(String type) {
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, CACHE)) {
      TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
      c.put("a1", "x", List.of("upstream-7"));
      c.put("a2", "x", List.of("upstream-7", "tenant-1"));
      c.put("b1", "x", List.of("tenant-1"));
      c.put("n", "x");
      assertThat(c.get("a3", this::load, Set.of("upstream-7"))).isEqualTo("loaded:a3");
      c.invalidateL1ForTest("a2"); // one of them only in L2
      c.invalidateTag("upstream-7");
      assertThat(c.getIfPresent("a1")).as("L1 copy dropped").isNull();
      assertThat(c.getIfPresent("a2")).as("L2 entry dead").isNull();
      assertThat(c.getIfPresent("a3")).as("loaded with the tag").isNull();
      assertThat(c.getIfPresent("b1")).isEqualTo("x");
      assertThat(c.getIfPresent("n")).isEqualTo("x");
      c.invalidateL1ForTest("b1");
      assertThat(c.getIfPresent("b1")).as("other tags untouched in L2").isEqualTo("x");
      c.put("a1", "y", List.of("upstream-7"));
      assertThat(c.getIfPresent("a1")).as("a write after the invalidation is live").isEqualTo("y");
      c.invalidateL1ForTest("a1");
      assertThat(c.getIfPresent("a1")).isEqualTo("y");
      c.close();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#durableTypesWithPostgres")
  void tagInvalidationSurvivesARestart(String type) {
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, CACHE)) {
      TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
      c.put("a", "x", List.of("upstream-7"));
      c.put("b", "x", List.of("upstream-8"));
      c.invalidateTag("upstream-7");
      c.close();
    }
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, CACHE)) {
      TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
      assertThat(c.get("a", this::load))
          .as("invalidated before the restart: not served after it")
          .isEqualTo("loaded:a");
      assertThat(c.get("b", this::load)).isEqualTo("x");
      c.put("c", "x", List.of("upstream-8"));
      c.invalidateTag("upstream-8"); // now, then restart with L1 gone
      c.close();
    }
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, CACHE)) {
      TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
      assertThat(c.getIfPresent("b")).isNull();
      assertThat(c.getIfPresent("c")).isNull();
      assertThat(c.getIfPresent("a")).as("the untagged reload is live").isEqualTo("loaded:a");
      assertThat(
              r.backend("b")
                  .keyValue("cache.c.tags")
                  .get("upstream-8".getBytes(StandardCharsets.UTF_8)))
          .as("one generation row per tag, not a rewrite of entries")
          .hasSize(8);
      c.close();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#typesWithPostgres")
  void invalidateIfDropsWhatThePredicateAcceptsInEveryTier(String type) {
    try (PersistenceRegistry r = TestBackends.open(type, dir, clock, CACHE)) {
      TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
      for (int i = 0; i < 20; i++) {
        c.put("k" + i, i % 2 == 0 ? "even" : "odd");
      }
      for (int i = 0; i < 20; i += 4) {
        c.invalidateL1ForTest("k" + i); // some only in L2
      }
      assertThat(c.invalidateIf((k, v) -> v.equals("even"))).isEqualTo(10);
      for (int i = 0; i < 20; i++) {
        assertThat(c.getIfPresent("k" + i)).isEqualTo(i % 2 == 0 ? null : "odd");
      }
      assertThat(r.backend("b").keyValue("cache.c").get("k0".getBytes())).isNull();
      c.close();
    }
  }

  @Test
  void badTagsAreRefusedAndNothingIsWritten() {
    try (PersistenceRegistry r = TestBackends.open("memory", dir, clock, CACHE)) {
      TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
      assertThatThrownBy(() -> c.put("k", "v", List.of("")))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("non-empty");
      assertThatThrownBy(() -> c.put("k", "v", List.of("t".repeat(300))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("256");
      assertThat(c.getIfPresent("k")).isNull();
      c.close();
    }
  }
}
