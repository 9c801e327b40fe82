package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * L1 expiry without a per-value holder: exact on a registry clock, enforced off the hit path by
 * {@link L1Sweeper} on the system clock (l1.coarse-clock = true).
 */
class L1ExpiryTest {
  @TempDir Path dir;

  private PersistenceRegistry systemClockRegistry(String cache) {
    return PersistenceRegistry.builder()
        .baseDirectory(dir)
        .open(ConfigFactory.parseString("cairn.backends.b { type = memory }\n" + cache));
  }

  @Test
  void anL2FillKeepsTheL2EntrysRemainingLifeOnAnExactClock() {
    ManualClock clock = new ManualClock();
    try (PersistenceRegistry r =
        TestBackends.open("memory", dir, clock, "cairn.caches.c { backend = b, ttl = 10m }\n")) {
      try (TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
        c.put("k", "v");
      }
      clock.advance(Duration.ofMinutes(6));
      try (TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
        assertThat(c.usesCoarseClock()).isFalse();
        assertThat(c.getIfPresent("k")).isEqualTo("v"); // L2 hit, copied into L1
        c.awaitFillsForTest(); // L1's copy is made on the fill thread
        assertThat(c.stats().l2Hits()).isEqualTo(1);
        clock.advance(Duration.ofMinutes(4).minusMillis(1));
        assertThat(c.getIfPresent("k")).isEqualTo("v");
        assertThat(c.stats().l1Hits()).as("served from L1").isEqualTo(1);
        clock.advanceMillis(1);
        assertThat(c.getIfPresent("k")).as("L1 copy expires with its L2 entry").isNull();
        assertThat(c.stats().l1Size()).isZero();
      }
    }
  }

  @Test
  void theSweeperRemovesExpiredCopiesWithoutAnyLookup() throws InterruptedException {
    try (PersistenceRegistry r =
            systemClockRegistry("cairn.caches.c { backend = b, ttl = 300ms }");
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      assertThat(c.usesCoarseClock()).isTrue();
      assertThat(L1Sweeper.running()).isTrue();
      long before = System.currentTimeMillis();
      for (int i = 0; i < 100; i++) {
        c.put("k" + i, "v" + i);
      }
      assertThat(c.getIfPresent("k0")).isEqualTo("v0");
      // no lookups from here: only the sweeper can empty L1. 10 s only bounds a starved machine.
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (c.stats().l1Size() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(c.stats().l1Size()).as("expired copies removed by the sweeper").isZero();
      assertThat(System.currentTimeMillis()).as("not early").isGreaterThanOrEqualTo(before + 300);
      assertThat(c.getIfPresent("k0")).isNull();
      assertThat(c.deadlineRecords()).isZero();
    }
    assertThat(L1Sweeper.running()).as("stopped with the last cache").isFalse();
  }

  @Test
  void onTheSweeperAnL2FillExpiresWithItsL2Entry() throws InterruptedException {
    try (PersistenceRegistry r = systemClockRegistry("cairn.caches.c { backend = b, ttl = 2s }")) {
      long before = System.currentTimeMillis(); // the L2 expiry is at least before + 2000
      try (TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
        c.put("k", "v");
      }
      Thread.sleep(1000);
      try (TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
        long filled = System.currentTimeMillis();
        assertThat(c.getIfPresent("k")).isEqualTo("v");
        assertThat(c.stats().l2Hits()).isEqualTo(1);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (c.getIfPresent("k") != null && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
        long gone = System.currentTimeMillis();
        assertThat(c.getIfPresent("k")).isNull();
        assertThat(gone).as("never early").isGreaterThanOrEqualTo(before + 2000);
        // a copy given a full TTL at the fill would live until filled + 2000 (>= before + 3000)
        assertThat(gone).as("with the L2 entry, not a TTL from the fill").isLessThan(filled + 1900);
        assertThat(c.stats().l1Hits()).as("served from L1 until then").isPositive();
      }
    }
  }

  /** A key whose hashCode fails while {@link #fail} is set (a stand-in for a buggy key type). */
  record FlakyKey(String name) {
    static volatile boolean fail;

    @Override
    public int hashCode() {
      if (fail) {
        throw new IllegalStateException("hashCode failed for " + name);
      }
      return name.hashCode();
    }
  }

  @Test
  void aFailingSweepIsRetriedAndOtherCachesKeepExpiring() throws InterruptedException {
    Codec<FlakyKey> keys =
        Codec.of(
            k -> k.name().getBytes(java.nio.charset.StandardCharsets.UTF_8),
            b -> new FlakyKey(new String(b, java.nio.charset.StandardCharsets.UTF_8)));
    try (PersistenceRegistry r =
            systemClockRegistry(
                "cairn.caches.bad { backend = b, ttl = 200ms }\n"
                    + "cairn.caches.good { backend = b, ttl = 200ms }");
        TieredCache<FlakyKey, String> bad = TieredCache.open(r, "bad", keys, Codec.utf8());
        TieredCache<String, String> good =
            TieredCache.open(r, "good", Codec.utf8(), Codec.utf8())) {
      bad.put(new FlakyKey("k"), "v");
      good.put("k", "v");
      FlakyKey.fail = true;
      try {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (good.stats().l1Size() > 0 && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
        assertThat(good.stats().l1Size()).as("the other cache still expires").isZero();
        assertThat(L1Sweeper.running()).isTrue();
      } finally {
        FlakyKey.fail = false;
      }
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (bad.stats().l1Size() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(bad.stats().l1Size()).as("retried once the key works again").isZero();
    }
  }
}
