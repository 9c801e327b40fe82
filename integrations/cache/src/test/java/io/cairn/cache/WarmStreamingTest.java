package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.tck.ManualClock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * warmFromL2 streams the persistent tier into L1 instead of collecting every entry first: the scan
 * thread runs ahead of the filling thread by at most the hand-over queue (a few batches).
 */
class WarmStreamingTest {
  @TempDir Path dir;

  @Test
  void warmingFillsL1WhileTheScanRunsHoldingNoList() {
    try (PersistenceRegistry r =
        TestBackends.open(
            "flaky",
            dir,
            new ManualClock(),
            "cairn.caches.c { backend = b, ttl = 1h, l1.max-entries = 10000 }\n")) {
      TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
      for (int i = 0; i < 3000; i++) {
        c.put(String.format("k%05d", i), "v");
      }
      c.close();
      TieredCache<String, String> again = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
      FlakyBackendProvider.SCANNED.set(0);
      List<Long> ahead = new ArrayList<>();
      long copied =
          again.warmFromL2(
              3000, (phase, done, total) -> ahead.add(FlakyBackendProvider.SCANNED.get() - done));
      assertThat(copied).isEqualTo(3000);
      assertThat(again.getIfPresent("k02999")).isEqualTo("v");
      assertThat(ahead).isNotEmpty();
      assertThat(ahead)
          .as("entries read from the store but not yet copied, at each progress report")
          .allSatisfy(
              n ->
                  assertThat(n)
                      .isLessThanOrEqualTo((TieredCache.WARM_QUEUE + 2L) * TieredCache.WARM_BATCH)
                      .isLessThan(3000));
      again.close();
    }
  }

  /**
   * A validator that throws while warming: the exception reaches the caller and the scan thread
   * ends (it would otherwise wait for ever to hand its next batch to a caller that has gone).
   */
  @Test
  void aFailureWhileFillingStopsTheScanThread() throws Exception {
    try (PersistenceRegistry r =
        TestBackends.open(
            "flaky",
            dir,
            new ManualClock(),
            "cairn.caches.c { backend = b, ttl = 1h, l1.max-entries = 10000 }\n")) {
      try (TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
        for (int i = 0; i < 5000; i++) {
          c.put(String.format("k%05d", i), "v");
        }
      }
      CacheValidator<String, String> failing =
          (k, v) -> {
            if (k.equals("k00300")) {
              throw new IllegalStateException("validator failed on " + k);
            }
            return true;
          };
      try (TieredCache<String, String> again =
          TieredCache.open(r, "c", Codec.utf8(), Codec.utf8(), failing)) {
        assertThatThrownBy(() -> again.warmFromL2(5000, Progress.NONE))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("k00300");
        assertThat(
                Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("cairn-cache-warm-c") && t.isAlive())
                    .toList())
            .as("scan threads still alive after warmFromL2 returned")
            .isEmpty();
        // the tier is intact and a later warming (with a validator that passes) copies it all
        assertThat(again.getIfPresent("k04999")).isEqualTo("v");
      }
    }
  }
}
