package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** warmFromL2 streams the persistent tier into L1 instead of collecting every entry first. */
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
          .allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(1));
      again.close();
    }
  }
}
