package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * L2 failing and recovering, with failure injected by the {@code flaky} test backend: the cache
 * serves from L1 and the loader, reports degraded, retries with backoff, and after recovery L2
 * never serves a value older than one written during the outage.
 */
class CacheDegradationTest {
  private static final String CACHE =
      "cairn.caches.c { backend = b, ttl = 1h, l2 { retry-initial = 1s, retry-max = 4s } }\n";

  /**
   * How long the call that starts a tier's recovery waits for it (see "Recovery off the callers'
   * threads" in {@link StoreTier}): long enough that a recovery of a tier that answers ends within
   * it on a starved machine, so that the wait decides nothing here.
   */
  static final long RECOVERY_WAIT_MS = 20_000;

  @TempDir Path dir;
  final ManualClock clock = new ManualClock();

  @AfterEach
  void heal() {
    FlakyBackendProvider.FAILING.set(false);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void servesFromL1AndLoaderWhileL2FailsThenRecoversWithBackoff() {
    AtomicInteger loads = new AtomicInteger();
    try (PersistenceRegistry r = TestBackends.open("flaky", dir, clock, CACHE);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      c.probeWaitForTest(RECOVERY_WAIT_MS); // the call after the retry time sees its outcome
      c.put("k", "v1");
      c.put("gone", "old");
      FlakyBackendProvider.FAILING.set(true);
      FlakyBackendProvider.FAILED_CALLS.set(0);

      assertThat(c.get("k", x -> "unused")).as("L1 still serves").isEqualTo("v1");
      assertThat(c.get("miss", x -> "loaded:" + loads.incrementAndGet())).isEqualTo("loaded:1");
      assertThat(c.isDegraded()).isTrue();
      assertThat(r.healthChecks().runHealthCheck("cairn.caches.c").getMessage())
          .contains("degraded")
          .contains("no space left");
      // Written and invalidated during the outage: remembered as dirty, L2 not touched.
      c.put("k", "v2");
      c.invalidate("gone");
      assertThat(c.get("miss2", x -> "loaded:" + loads.incrementAndGet())).isEqualTo("loaded:2");
      assertThat(FlakyBackendProvider.FAILED_CALLS.get())
          .as("one failed L2 call, then L2 is bypassed until the retry time")
          .isEqualTo(1);

      clock.advance(Duration.ofSeconds(1));
      c.getIfPresent("probe"); // retry: still failing, next retry in 2s
      assertThat(FlakyBackendProvider.FAILED_CALLS.get()).isEqualTo(2);
      clock.advance(Duration.ofSeconds(1));
      c.getIfPresent("probe");
      assertThat(FlakyBackendProvider.FAILED_CALLS.get()).as("backoff doubled").isEqualTo(2);
      assertThat(c.stats().l2Errors()).isEqualTo(2);

      FlakyBackendProvider.FAILING.set(false);
      clock.advance(Duration.ofSeconds(1));
      c.getIfPresent("probe");
      assertThat(c.isDegraded()).isFalse();
      assertThat(r.healthChecks().runHealthCheck("cairn.caches.c").isHealthy()).isTrue();
      var l2 = r.backend("b").keyValue("cache.c");
      assertThat(l2.get(utf8("k")))
          .as("the stale v1 was dropped from L2 on recovery (v2 lives in L1 only)")
          .isNull();
      assertThat(l2.get(utf8("gone"))).as("invalidated during the outage").isNull();
      assertThat(c.get("k", x -> "unused")).isEqualTo("v2");
      c.put("k", "v3");
      assertThat(TestBackends.storedValue(l2, utf8("k"))).isEqualTo(utf8("v3"));
    }
  }

  @Test
  void manyDirtyKeysClearTheWholeNamespaceOnRecovery() {
    try (PersistenceRegistry r = TestBackends.open("flaky", dir, clock, CACHE);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      c.probeWaitForTest(RECOVERY_WAIT_MS); // the call after the retry time sees its outcome
      c.put("keep-out", "old");
      FlakyBackendProvider.FAILING.set(true);
      c.getIfPresent("x");
      for (int i = 0; i <= StoreTier.MAX_DIRTY; i++) {
        c.put("k" + i, "v");
      }
      FlakyBackendProvider.FAILING.set(false);
      clock.advance(Duration.ofSeconds(1));
      c.getIfPresent("probe");
      assertThat(c.isDegraded()).isFalse();
      assertThat(r.backend("b").keyValue("cache.c").approximateCount()).isZero();
    }
  }
}
