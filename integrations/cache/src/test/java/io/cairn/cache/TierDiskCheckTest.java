package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StoreStats;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk check of a size-bounded tier when the backend's size on disk is briefly unknown (RocksDB
 * reports none while a file vanishes under its directory walk, e.g. an obsolete file deleted after
 * a compaction). Simulated with the {@code flaky} backend reporting twice its data bytes as its
 * footprint, and nothing (-1) for a moment.
 */
class TierDiskCheckTest {
  @TempDir Path dir;

  @AfterEach
  void reset() {
    FlakyBackendProvider.DISK_BYTES = null;
  }

  private static long dataBytes(BackendStats s) {
    return s.stores().stream().mapToLong(StoreStats::bytes).sum();
  }

  /**
   * The second disk check (both of its tries) gets no size; the bound on disk must still hold at
   * the end of a storm of twice the bound. Before the fix one such moment switched the disk check
   * off for good and the files grew to twice the bound (the data alone reached it).
   */
  @Test
  void aMomentWithoutASizeOnDiskDoesNotSwitchTheDiskBoundOff() {
    long maxBytes = 2L << 20;
    AtomicInteger calls = new AtomicInteger();
    AtomicInteger unknown = new AtomicInteger();
    FlakyBackendProvider.DISK_BYTES =
        s -> {
          int n = calls.incrementAndGet();
          if (n == 2 || n == 3) {
            unknown.incrementAndGet();
            return -1;
          }
          return 2 * dataBytes(s);
        };
    int valueSize = 300;
    int writes = (int) (2 * maxBytes / valueSize);
    try (PersistenceRegistry r =
            TestBackends.open(
                "flaky",
                dir,
                Clock.systemUTC(),
                "cairn.caches.c { backend = b, ttl = 1h, l1.max-entries = 100, l2.max-bytes = 2MiB"
                    + " }");
        TieredCache<String, byte[]> c = TieredCache.open(r, "c", Codec.utf8(), Codec.bytes())) {
      Random random = new Random(7);
      for (int i = 0; i < writes; i++) {
        byte[] v = new byte[valueSize];
        random.nextBytes(v);
        c.put(String.format("key-%08d", i), v);
      }
      assertThat(unknown.get()).as("the moment without a size happened").isPositive();
      long disk = 2 * dataBytes(r.backend("b").stats());
      assertThat(disk)
          .as("simulated footprint on disk at the end (%s checks)", calls.get())
          .isLessThanOrEqualTo(maxBytes * 11 / 10);
      assertThat(dataBytes(r.backend("b").stats()))
          .as("data the tier still holds")
          .isGreaterThan(maxBytes / 10);
    }
  }
}
