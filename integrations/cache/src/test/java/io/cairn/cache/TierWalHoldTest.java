package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A reader holding a SQLite snapshot in the middle of a write storm (what the backend's background
 * {@code quick_check} does 1 s after open) keeps checkpoints from restarting the WAL; the tier's
 * bound on disk must still hold while it does (issue 16: "size on disk within 10% of the bound
 * during a write storm"). See "A WAL held by a reader" in {@link StoreTier}.
 */
class TierWalHoldTest {
  private static final Logger log = LoggerFactory.getLogger(TierWalHoldTest.class);

  @TempDir Path dir;

  /**
   * A registry with one SQLite backend, its WAL limited for a small tier, under cache {@code c}
   * bounded to 4 MiB on disk. {@code open-check = header}: the background check would be a second
   * reader.
   */
  private PersistenceRegistry openBounded() {
    return PersistenceRegistry.builder()
        .baseDirectory(dir)
        .open(
            ConfigFactory.parseString(
                "cairn.backends.b { type = sqlite, durability = normal, open-check = header,"
                    + " wal-autocheckpoint-pages = 100, journal-size-limit = 512KiB }\n"
                    + "cairn.caches.c { backend = b, ttl = 1h, l1.max-entries = 100,"
                    + " l2.max-bytes = 4MiB }"));
  }

  @Test
  void aReaderHoldingTheWalDuringAStormDoesNotTakeTheFilesPastTheBound() throws Exception {
    long maxBytes = 4L << 20;
    int writes = (int) (2 * maxBytes / 300);
    long holdMillis = 1500;
    try (PersistenceRegistry r = openBounded();
        TieredCache<String, byte[]> c = TieredCache.open(r, "c", Codec.utf8(), Codec.bytes())) {
      AtomicInteger next = new AtomicInteger();
      CountDownLatch holding = new CountDownLatch(1);
      long[] peak = {0};
      String[] peakListing = {""};
      ExecutorService pool = Executors.newFixedThreadPool(6);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int seed = t;
        done.add(
            pool.submit(
                () -> {
                  Random random = new Random(seed);
                  for (int i; (i = next.getAndIncrement()) < writes; ) {
                    byte[] v = new byte[300];
                    random.nextBytes(v);
                    c.put(String.format("key-%08d", i), v);
                  }
                }));
      }
      // the reader: a read transaction (one SQLite snapshot) held for holdMillis, once the files
      // have grown to the bound's neighbourhood (a quarter of the storm written)
      Future<?> reader =
          pool.submit(
              () -> {
                while (next.get() < writes / 4) {
                  Thread.sleep(5);
                }
                return r.backend("b")
                    .readTransaction(
                        view -> {
                          view.keyValue("cache.c").get("key-00000000".getBytes());
                          holding.countDown();
                          try {
                            Thread.sleep(holdMillis);
                          } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                          }
                          return null;
                        });
              });
      Future<?> sampler =
          pool.submit(
              () -> {
                while (next.get() < writes) {
                  long now = sizeOnDisk(dir);
                  if (now > peak[0]) {
                    peak[0] = now;
                    peakListing[0] = listing(dir);
                  }
                  Thread.sleep(10);
                }
                return null;
              });
      for (Future<?> f : done) {
        f.get(5, TimeUnit.MINUTES);
      }
      reader.get(1, TimeUnit.MINUTES);
      sampler.get(1, TimeUnit.MINUTES);
      pool.shutdown();
      StoreTier tier = c.chain().tiers().get(0);
      log.info(
          "{} writes with a reader holding a snapshot for {} ms: largest sample {} B ({}), {}"
              + " writes paused",
          writes,
          holdMillis,
          peak[0],
          peakListing[0],
          tier.walPauses());
      assertThat(holding.getCount()).as("the reader held its snapshot").isZero();
      assertThat(peak[0])
          .as("largest size on disk during the storm: %s", peakListing[0])
          .isLessThanOrEqualTo(maxBytes * 11 / 10);
      assertThat(tier.walPauses()).as("writers were held back while the WAL was").isPositive();
      // The hold takes effect within a few writes of the WAL passing its threshold: each write
      // in flight (4 writers) appends up to WAL_BYTES_PER_WRITE. Looking at the WAL every 8 KB of
      // data (~25 writes) started it at up to 1.24 MB against 0.63 MB (loaded machine), and the
      // files passed the bound.
      assertThat(tier.walAtHold())
          .as("largest WAL size at which the hold started")
          .isLessThanOrEqualTo((long) tier.walHeldAt() + 4 * StoreTier.WAL_BYTES_PER_WRITE);
    }
  }

  /**
   * The disk check's own evictions pass through the hold: when the byte budget drops, hundreds of
   * keys are deleted at once, each delete a commit of its own, and a reader that held the WAL
   * meanwhile (the background check, 1 s after open, landing on such a burst) let them all into it:
   * WAL 2.17 MB beside a 3.41 MB database in a module run (1.33x the bound). Here the tier is
   * filled to its bound, a reader takes a snapshot and keeps it until told, and the budget is
   * lowered by a third (about 1,800 keys; without the hold they took the WAL to 20.8 MB): the
   * evictions must pause while the WAL is held, with the files within 10% of the bound, and all go
   * once the reader ends. No timing decides the outcome: the test waits for the evicting thread to
   * pause or to finish.
   */
  @Test
  void theDiskChecksEvictionsPauseWhileAReaderHoldsTheWal() throws Exception {
    long maxBytes = 4L << 20;
    try (PersistenceRegistry r = openBounded();
        TieredCache<String, byte[]> c = TieredCache.open(r, "c", Codec.utf8(), Codec.bytes())) {
      Random random = new Random(7);
      for (int i = 0; i < 2 * maxBytes / 300; i++) {
        byte[] v = new byte[300];
        random.nextBytes(v);
        c.put(String.format("key-%08d", i), v);
      }
      StoreTier tier = c.chain().tiers().get(0);
      long entriesBefore = tier.bound().entries();
      long pausesBefore = tier.walPauses();
      CountDownLatch holding = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try {
        Future<?> reader =
            pool.submit(
                () ->
                    r.backend("b")
                        .readTransaction(
                            view -> {
                              view.keyValue("cache.c").get("key-00000000".getBytes());
                              holding.countDown();
                              try {
                                release.await();
                              } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                              }
                              return null;
                            }));
        holding.await();
        Future<?> evicting = pool.submit(() -> tier.applyBudget(tier.bound().budget() * 2 / 3));
        long peak = 0;
        String peakListing = "";
        // until the evictions paused (the hold engaged) four times, or ended without pausing
        while (tier.walPauses() < pausesBefore + 4 && !evicting.isDone()) {
          long now = sizeOnDisk(dir);
          if (now > peak) {
            peak = now;
            peakListing = listing(dir);
          }
          Thread.onSpinWait();
        }
        long whileHeld = sizeOnDisk(dir);
        String whileHeldListing = listing(dir);
        release.countDown();
        reader.get(1, TimeUnit.MINUTES);
        evicting.get(5, TimeUnit.MINUTES);
        log.info(
            "evictions under a held WAL: {} pauses; files {} B while held ({}), largest sample {}"
                + " B ({}); {} of {} entries left",
            tier.walPauses() - pausesBefore,
            whileHeld,
            whileHeldListing,
            peak,
            peakListing,
            tier.bound().entries(),
            entriesBefore);
        assertThat(tier.walPauses() - pausesBefore)
            .as("evictions paused while the WAL was held (files then: %s)", whileHeldListing)
            .isGreaterThanOrEqualTo(4);
        assertThat(Math.max(peak, whileHeld))
            .as("largest size on disk while the reader held: %s", peakListing)
            .isLessThanOrEqualTo(maxBytes * 11 / 10);
        assertThat(tier.bound().entries())
            .as("the evictions went on once the reader ended")
            .isLessThan(entriesBefore * 3 / 4);
        long[] stored = {0};
        tier.scan(Long.MAX_VALUE, e -> stored[0]++);
        assertThat(tier.bound().entries()).as("index matches the store").isEqualTo(stored[0]);
      } finally {
        release.countDown();
        pool.shutdown();
      }
    }
  }

  /** The data directory's files; a file that vanishes during the walk counts 0. */
  private static long sizeOnDisk(Path p) {
    try (Stream<Path> files = Files.walk(p)) {
      return files
          .filter(Files::isRegularFile)
          .mapToLong(
              f -> {
                try {
                  return Files.size(f);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    } catch (IOException | java.io.UncheckedIOException e) {
      return 0;
    }
  }

  private static String listing(Path p) {
    try (Stream<Path> files = Files.walk(p)) {
      return files
          .filter(Files::isRegularFile)
          .map(f -> p.relativize(f) + "=" + f.toFile().length())
          .collect(java.util.stream.Collectors.joining(", "));
    } catch (IOException | java.io.UncheckedIOException e) {
      return "(a file vanished during the walk)";
    }
  }
}
