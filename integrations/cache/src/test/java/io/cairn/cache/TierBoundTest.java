package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Codec;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bound of a persistent tier (issue 16): it holds under a write storm, and CLOCK eviction keeps
 * the hot keys of a Zipfian workload about as well as exact LRU.
 */
class TierBoundTest {
  private static final Logger log = LoggerFactory.getLogger(TierBoundTest.class);

  @TempDir Path dir;

  private PersistenceRegistry open(String type, String cache) {
    return PersistenceRegistry.builder()
        .baseDirectory(dir)
        .open(
            ConfigFactory.parseString(
                "cairn.backends.b { type = " + type + ", durability = none }\n" + cache));
  }

  /** Entries and key + value bytes actually stored in the tier's namespace (a full scan). */
  private static long[] stored(KeyValueStore s) {
    long[] out = {0, 0};
    try (CloseableIterator<Entry> it = s.scan(null, null)) {
      while (it.hasNext()) {
        Entry e = it.next();
        out[0]++;
        out[1] += e.key().length + e.value().length;
      }
    }
    return out;
  }

  /**
   * The bytes of the regular files under {@code p}. A file that vanishes during the walk (RocksDB's
   * anchor beat renames its temporary file every 200 ms; compactions delete their inputs) makes it
   * walk again, up to ten times.
   */
  private static long sizeOnDisk(Path p) throws IOException {
    for (int attempt = 1; ; attempt++) {
      if (!Files.exists(p)) {
        return 0;
      }
      try (Stream<Path> files = Files.walk(p)) {
        return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
      } catch (java.io.UncheckedIOException e) {
        if (!(e.getCause() instanceof java.nio.file.NoSuchFileException) || attempt == 10) {
          throw e;
        }
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#types")
  void entryBoundHoldsUnderAWriteStorm(String type) throws Exception {
    storm(type, "l2.max-entries = 1000", 1000, 0);
  }

  /**
   * Memory only: there {@code max-bytes} bounds the key + stored value bytes; on SQLite and RocksDB
   * it bounds the files on disk ({@link
   * #footprintOnDiskStaysWithinTenPercentOfTheBoundUnderAWriteStorm}).
   */
  @Test
  void byteBoundHoldsUnderAWriteStorm() throws Exception {
    storm("memory", "l2.max-bytes = 300KiB", 0, 300 * 1024);
  }

  /** 4 threads put 8,000 distinct ~300-byte entries into a tier bounded far below that. */
  private void storm(String type, String bound, long maxEntries, long maxBytes) throws Exception {
    try (PersistenceRegistry r =
        open(
            type,
            "cairn.caches.c { backend = b, ttl = 1h, l1.max-entries = 100, " + bound + " }")) {
      TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
      String value = "v".repeat(280);
      AtomicInteger next = new AtomicInteger();
      ExecutorService pool = Executors.newFixedThreadPool(4);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i; (i = next.getAndIncrement()) < 8_000; ) {
                    c.put(String.format("key-%08d", i), value);
                  }
                }));
      }
      for (Future<?> f : done) {
        f.get(5, TimeUnit.MINUTES);
      }
      pool.shutdown();
      KeyValueStore store = r.backend("b").keyValue("cache.c");
      long[] actual = stored(store);
      TierStats ts = c.tierStats().get(0);
      log.info(
          "{} {}: stored {} entries, {} bytes (key + value); tier counts {} entries, {} bytes;"
              + " {} evictions; data dir on disk {} bytes",
          type,
          bound,
          actual[0],
          actual[1],
          ts.entries(),
          ts.bytes(),
          ts.evictions(),
          sizeOnDisk(dir));
      assertThat(ts.entries()).as("index count matches the store").isEqualTo(actual[0]);
      assertThat(ts.bytes()).as("index bytes match the store").isEqualTo(actual[1]);
      assertThat(ts.evictions()).isEqualTo(8_000 - actual[0]);
      if (maxEntries > 0) {
        assertThat(actual[0]).isBetween(maxEntries * 9 / 10, maxEntries * 11 / 10);
      }
      if (maxBytes > 0) {
        assertThat(actual[1]).isBetween(maxBytes * 9 / 10, maxBytes * 11 / 10);
      }
      long lastKeys = 0;
      for (int i = 7_900; i < 8_000; i++) {
        if (store.get(String.format("key-%08d", i).getBytes()) != null) {
          lastKeys++;
        }
      }
      assertThat(lastKeys).as("the newest writes are kept").isGreaterThan(90);
      assertThat(r.metrics().getGauges().get("cairn.caches.c.tiers.b.entries").getValue())
          .isEqualTo(actual[0]);
      c.close();
    }
    log.info("{} {}: data dir on disk after close {} bytes", type, bound, sizeOnDisk(dir));
    // reopened: the index is rebuilt from the store and the bound still holds
    try (PersistenceRegistry r =
        open(
            type,
            "cairn.caches.c { backend = b, ttl = 1h, l1.max-entries = 100, " + bound + " }")) {
      if (type.equals("memory")) {
        return; // nothing survives
      }
      TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
      long[] actual = stored(r.backend("b").keyValue("cache.c"));
      assertThat(c.tierStats().get(0).entries()).isEqualTo(actual[0]);
      assertThat(c.tierStats().get(0).bytes()).isEqualTo(actual[1]);
      c.close();
    }
  }

  /**
   * The bound on disk: during and after a write storm of twice the bound from 4 threads, the tier's
   * files (the whole data directory, sampled every 20 ms while the cache is open, and at the end)
   * are within 10% of {@code max-bytes = 4MiB} on SQLite (whose background check holds a snapshot
   * from 1 s after open) and RocksDB at durability {@code normal} (WAL on), and the tier still
   * holds data (at least a tenth of the bound: the rest is the engine's overhead); on memory (no
   * files) an entry bound of 20,000 holds within 10% under 40,000 writes. Values are random
   * 300-byte strings of bytes (incompressible). SQLite's WAL is limited for a tier this small
   * ({@code wal-autocheckpoint-pages = 100, journal-size-limit = 512KiB}, see reference.conf).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#types")
  void footprintOnDiskStaysWithinTenPercentOfTheBoundUnderAWriteStorm(String type)
      throws Exception {
    boolean files = !type.equals("memory");
    long maxBytes = 4L << 20;
    int valueSize = 300;
    int writes = files ? (int) (2 * maxBytes / valueSize) : 40_000;
    String bound = files ? "l2.max-bytes = 4MiB" : "l2.max-entries = 20000";
    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(
                ConfigFactory.parseString(
                    "cairn.backends.b { type = "
                        + type
                        + (files ? ", durability = normal" : "")
                        + (type.equals("sqlite")
                            ? ", wal-autocheckpoint-pages = 100, journal-size-limit = 512KiB"
                            : "")
                        + " }\n"
                        + "cairn.caches.c { backend = b, ttl = 1h, l1.max-entries = 100, "
                        + bound
                        + " }"))) {
      try (TieredCache<String, byte[]> c = TieredCache.open(r, "c", Codec.utf8(), Codec.bytes())) {
        stormAndCheck(r, c, type, bound, files, maxBytes, valueSize, writes);
      }
    }
  }

  private void stormAndCheck(
      PersistenceRegistry r,
      TieredCache<String, byte[]> c,
      String type,
      String bound,
      boolean files,
      long maxBytes,
      int valueSize,
      int writes)
      throws Exception {
    {
      AtomicInteger next = new AtomicInteger();
      long[] maxSeen = {0};
      String[] maxListing = {""};
      ExecutorService pool = Executors.newFixedThreadPool(5);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int seed = t;
        done.add(
            pool.submit(
                () -> {
                  Random random = new Random(seed);
                  for (int i; (i = next.getAndIncrement()) < writes; ) {
                    byte[] v = new byte[valueSize];
                    random.nextBytes(v);
                    c.put(String.format("key-%08d", i), v);
                  }
                }));
      }
      Future<?> sampler =
          pool.submit(
              () -> {
                while (next.get() < writes) {
                  long now = sizeOnDiskQuietly(dir);
                  if (now > maxSeen[0]) {
                    maxSeen[0] = now;
                    maxListing[0] = listingQuietly(dir);
                  }
                  Thread.sleep(20);
                }
                return null;
              });
      for (Future<?> f : done) {
        f.get(5, TimeUnit.MINUTES);
      }
      sampler.get(1, TimeUnit.MINUTES);
      pool.shutdown();
      long[] actual = stored(r.backend("b").keyValue("cache.c"));
      TierStats ts = c.tierStats().get(0);
      StoreTier tier = c.chain().tiers().get(0);
      long disk = sizeOnDisk(dir);
      log.info(
          "{} {}: {} writes; stored {} entries, {} data bytes; budget {}; on disk now {} bytes"
              + " (backend reports {}), largest sample during the storm {} ({}); {} compactions, {}"
              + " evictions",
          type,
          bound,
          writes,
          actual[0],
          actual[1],
          tier.bound().budget(),
          disk,
          r.backend("b").stats().diskBytes(),
          maxSeen[0],
          maxListing[0],
          tier.compactions(),
          ts.evictions());
      assertThat(ts.entries()).as("index count matches the store").isEqualTo(actual[0]);
      assertThat(ts.bytes()).as("index bytes match the store").isEqualTo(actual[1]);
      if (files) {
        // An engine may delete the files a compaction made obsolete on its own background threads
        // (RocksDB purges them after the compaction returns): wait for that, bounded, before
        // judging; a failure lists every file so that the next one says what grew.
        long settleBy = System.nanoTime() + 30_000_000_000L;
        while (disk > maxBytes * 11 / 10 && System.nanoTime() < settleBy) {
          Thread.sleep(100);
          disk = sizeOnDisk(dir);
        }
        assertThat(disk)
            .as("files on disk at the end: %s", listing(dir))
            .isLessThanOrEqualTo(maxBytes * 11 / 10);
        // The largest sample during the storm (every 20 ms, the whole directory). SQLite's WAL
        // spiked past the bound while the backend's background check (1 s after open) held a
        // snapshot (1.56x in a CI run of 2026-12-06: WAL 4.2 MB beside a 2.3 MB file); the tier
        // now holds writers back while its WAL is held (StoreTier, TierWalHoldTest).
        assertThat(maxSeen[0])
            .as("largest size on disk during the storm: %s", maxListing[0])
            .isLessThanOrEqualTo(maxBytes * 11 / 10);
        assertThat(actual[1]).as("data the tier still holds").isGreaterThan(maxBytes / 10);
      } else {
        assertThat(actual[0]).isBetween(20_000L * 9 / 10, 20_000L * 11 / 10);
      }
    }
  }

  private static String listing(Path p) throws IOException {
    try (Stream<Path> files = Files.walk(p)) {
      return files
          .filter(Files::isRegularFile)
          .map(f -> p.relativize(f) + "=" + f.toFile().length())
          .collect(java.util.stream.Collectors.joining(", "));
    }
  }

  private static String listingQuietly(Path p) {
    try {
      return listing(p);
    } catch (IOException | java.io.UncheckedIOException e) {
      return "(a file vanished during the walk)";
    }
  }

  private static long sizeOnDiskQuietly(Path p) {
    try {
      return sizeOnDisk(p);
    } catch (IOException | java.io.UncheckedIOException e) {
      return 0; // a file removed during the walk (compaction): the next sample counts again
    }
  }

  /**
   * A Zipfian (s = 0.99) trace of 30,000 reads over 3,000 keys through a cache whose persistent
   * tier holds 300 entries (L1: 1 entry, so the tier decides), beside an exact-LRU simulation of
   * 300 entries on the same trace. Stated margin: the measured hit rate is within 5 percentage
   * points of exact LRU's (CLOCK is a known close approximation), and clearly above what a cache
   * keeping random keys would get (the tier's share of distinct keys).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#types")
  void zipfianHitRateIsWithinFivePointsOfExactLru(String type) {
    int keys = 3000;
    int capacity = 300;
    int[] trace = zipf(keys, 0.99, 30_000, new Random(16));
    double lru = lruHitRate(trace, capacity);
    try (PersistenceRegistry r =
        open(
            type,
            "cairn.caches.c { backend = b, ttl = 1h, l1.max-entries = 1, l1.max-weight = 0,"
                + " l2.max-entries = "
                + capacity
                + " }")) {
      TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
      int[] misses = {0};
      for (int k : trace) {
        c.get(
            "k" + k,
            key -> {
              misses[0]++;
              return "value-of-" + key;
            });
      }
      double measured = 1.0 - (double) misses[0] / trace.length;
      log.info(
          "{}: Zipfian hit rate {} vs exact LRU {} (capacity {} of {} keys)",
          type,
          measured,
          lru,
          capacity,
          keys);
      assertThat(measured).isBetween(lru - 0.05, lru + 0.05);
      assertThat(measured).isGreaterThan((double) capacity / keys + 0.2);
      c.close();
    }
  }

  /** The CLOCK index alone: a key read since the hand passed survives, a cold one goes. */
  @Test
  void clockEvictsTheColdKeyAndSparesTheReadOne() {
    TierBound b = new TierBound(3, 0);
    assertThat(b.written(new byte[] {1}, 10)).isEmpty();
    assertThat(b.written(new byte[] {2}, 10)).isEmpty();
    assertThat(b.written(new byte[] {3}, 10)).isEmpty();
    b.touch(new byte[] {1});
    List<byte[]> victims = b.written(new byte[] {4}, 10);
    assertThat(victims).hasSize(1);
    assertThat(victims.get(0)).containsExactly(2);
    assertThat(b.entries()).isEqualTo(3);
    assertThat(b.bytes()).isEqualTo(30);
    b.removed(new byte[] {3});
    assertThat(b.entries()).isEqualTo(2);
    assertThat(b.written(new byte[] {4}, 25)).as("rewrite changes the size only").isEmpty();
    assertThat(b.bytes()).isEqualTo(35);
  }

  static int[] zipf(int n, double s, int length, Random random) {
    double[] cdf = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += 1.0 / Math.pow(i + 1, s);
      cdf[i] = sum;
    }
    int[] out = new int[length];
    for (int i = 0; i < length; i++) {
      double u = random.nextDouble() * sum;
      int lo = 0;
      int hi = n - 1;
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (cdf[mid] < u) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      out[i] = lo;
    }
    return out;
  }

  static double lruHitRate(int[] trace, int capacity) {
    Map<Integer, Boolean> lru =
        new LinkedHashMap<>(capacity * 2, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<Integer, Boolean> eldest) {
            return size() > capacity;
          }
        };
    int hits = 0;
    for (int k : trace) {
      if (lru.get(k) != null) {
        hits++;
      } else {
        lru.put(k, Boolean.TRUE);
      }
    }
    return (double) hits / trace.length;
  }
}
