package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20.3: creating stores got quadratically slower (every new store sorted every metric) and
 * each store kept about 5 KB of metrics after close. Creates 100,000 stores (override with {@code
 * -DmanyStores=N}) in one registry, prints the time and the heap retained per store, and checks
 * that the heap per store is bounded and released on close. The timeout only guards against the
 * quadratic behaviour (which took hours at this count); it does not measure speed.
 */
class MemoryManyStoresTest {
  @TempDir Path dir;

  @Test
  void aHundredThousandStoresAreCheapAndReleasedOnClose() {
    int n = Integer.getInteger("manyStores", 100_000);
    assertTimeoutPreemptively(
        Duration.ofMinutes(5),
        () -> {
          long baseline = usedHeapAfterGc();
          PersistenceRegistry r =
              PersistenceRegistry.builder()
                  .baseDirectory(dir)
                  .open(ConfigFactory.parseString("cairn.backends.m.type = memory"));
          StorageBackend b = r.backend("m");
          byte[] k = "k".getBytes(StandardCharsets.UTF_8);
          long start = System.nanoTime();
          for (int i = 0; i < n; i++) {
            b.keyValue("tenant-" + i).put(k, k);
          }
          double seconds = (System.nanoTime() - start) / 1e9;
          long withStores = usedHeapAfterGc();
          assertThat(b.stores()).hasSize(n);
          assertThat(r.metrics().getNames().size())
              .as("metrics per kind, not per store")
              .isLessThan(50);
          double perStore = (withStores - baseline) / (double) n;
          r.close();
          double leftPerStore = (usedHeapAfterGc() - baseline) / (double) n;
          // the closed registry (and through it the closed backend) is still reachable here, as
          // in an application that keeps it: it must not hold the stores
          assertThat(r.backendNames()).containsExactly("m");
          System.out.printf(
              "[many-stores] memory backend: %d stores in %.1f s (%.1f us each); heap %.0f bytes"
                  + " per store while open (one entry each, backend and registry), %.0f after"
                  + " close%n",
              n, seconds, seconds * 1e6 / n, perStore, leftPerStore);
          assertThat(perStore).as("heap per idle store, bytes").isLessThan(4096);
          assertThat(leftPerStore).as("heap per store left after close, bytes").isLessThan(256);
        });
  }

  private static long usedHeapAfterGc() {
    Runtime rt = Runtime.getRuntime();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      System.gc();
      used = Math.min(used, rt.totalMemory() - rt.freeMemory());
    }
    return used;
  }
}
