package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The L1 byte bound and the value-size cap (issue 20 item 7). */
class CacheBoundsTest {
  private static final int MIB = 1 << 20;

  @TempDir Path dir;
  final ManualClock clock = new ManualClock();

  private PersistenceRegistry open(String cache) {
    return TestBackends.open("memory", dir, clock, "cairn.cache.c { backend = b" + cache + " }\n");
  }

  /**
   * The reported case, scaled down: large values under default settings. An entry-count bound alone
   * kept every one of them (16 x 50 MB filled 870 MB of heap); the default byte bound (64MiB) keeps
   * L1 within it.
   */
  @Test
  void defaultL1IsBoundedByBytes() {
    try (PersistenceRegistry r = open(", l2.enabled = false");
        TieredCache<String, byte[]> c = TieredCache.openRaw(r, "c")) {
      for (int i = 0; i < 24; i++) {
        c.put("big" + i, new byte[8 * MIB]);
      }
      assertThat(c.l1WeightForTest()).as("L1 bytes").isLessThanOrEqualTo(64L * MIB);
      assertThat(c.stats().l1Size()).as("L1 entries").isLessThanOrEqualTo(8);
      assertThat(c.stats().l1Evictions()).isPositive();
    }
  }

  /** The entry bound still holds for small values under the byte bound. */
  @Test
  void entryBoundHoldsBesideTheByteBound() {
    try (PersistenceRegistry r = open(", l1.max-entries = 10, l1.max-weight = 1MiB");
        TieredCache<String, byte[]> c = TieredCache.openRaw(r, "c")) {
      for (int i = 0; i < 100; i++) {
        c.put("k" + i, new byte[10]);
      }
      assertThat(c.l1WeightForTest()).isLessThanOrEqualTo(MIB);
      assertThat(c.stats().l1Size()).isLessThanOrEqualTo(10);
      assertThat(c.getIfPresent("k0")).as("evicted from L1, still in L2").hasSize(10);
    }
  }

  @Test
  void putOfAValuePastTheCapIsRefusedByName() {
    try (PersistenceRegistry r = open(", max-value-size = 1MiB");
        TieredCache<String, byte[]> c = TieredCache.openRaw(r, "c")) {
      c.put("k", new byte[] {1});
      assertThatThrownBy(() -> c.put("k", new byte[MIB + 1]))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("Cache 'c'")
          .hasMessageContaining("key 'k'")
          .hasMessageContaining(MIB + 1 + " bytes")
          .hasMessageContaining("max-value-size (" + MIB + " bytes, " + CacheSettings.CACHES);
      assertThat(c.getIfPresent("k")).as("the earlier value stays").containsExactly(1);
      c.put("k", new byte[MIB]); // at the cap: stored
      assertThat(c.getIfPresent("k")).hasSize(MIB);
    }
  }

  @Test
  void loadedValuePastTheCapIsReturnedNotCachedAndCounted() {
    try (PersistenceRegistry r = open(", max-value-size = 1KiB");
        TieredCache<String, byte[]> c = TieredCache.openRaw(r, "c")) {
      assertThat(c.get("k", k -> new byte[2048])).hasSize(2048);
      assertThat(c.getIfPresent("k")).as("not cached").isNull();
      assertThat(r.backend("b").keyValue("cache.c").get("k".getBytes())).isNull();
      assertThat(r.metrics().getCounters().get("cairn.caches.c.oversize-loads").getCount())
          .isEqualTo(1L);
    }
  }

  @Test
  void maxValueSizeIsValidated() {
    try (PersistenceRegistry r = open(", max-value-size = 0")) {
      assertThatThrownBy(() -> TieredCache.openRaw(r, "c"))
          .isInstanceOf(io.cairn.persistence.ConfigurationException.class)
          .hasMessageContaining("max-value-size");
    }
  }
}
