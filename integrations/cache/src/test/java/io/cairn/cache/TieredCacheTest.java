package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.ClosedException;
import io.cairn.persistence.Codec;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tiered cache's behaviour, run on every backend in {@link TestBackends#TYPES} and PostgreSQL.
 */
class TieredCacheTest {
  private static final String CACHE = "cairn.caches.c { backend = b, ttl = 10m }\n";

  @TempDir Path dir;
  final ManualClock clock = new ManualClock();
  final AtomicInteger loaderCalls = new AtomicInteger();

  final Function<String, String> loader =
      k -> {
        loaderCalls.incrementAndGet();
        return "v:" + k;
      };

  private PersistenceRegistry open(String type) {
    return TestBackends.open(type, dir, clock, CACHE);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#typesWithPostgres")
  void readThroughFillsBothTiersAndL2AnswersAfterL1IsGone(String type) {
    try (PersistenceRegistry r = open(type)) {
      try (TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
        assertThat(c.get("k", loader)).isEqualTo("v:k");
        assertThat(c.get("k", loader)).isEqualTo("v:k");
        assertThat(loaderCalls).hasValue(1);
        CacheStats s = c.stats();
        assertThat(s.l1Hits()).isEqualTo(1);
        assertThat(s.l1Misses()).isEqualTo(1);
        assertThat(s.l2Misses()).isEqualTo(1);
        assertThat(s.loads()).isEqualTo(1);
        assertThat(s.hitRate()).isEqualTo(0.5);
        Entry e = r.backend("b").keyValue("cache.c").getEntry(utf8("k")).orElseThrow();
        assertThat(new String(StoredValue.decode(e.value()).value(), StandardCharsets.UTF_8))
            .isEqualTo("v:k");
        assertThat(e.expiresAtMillis())
            .as("L2 entry carries the TTL")
            .isEqualTo(ManualClock.START.plus(Duration.ofMinutes(10)).toEpochMilli());
      }
      try (TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
        assertThat(c.get("k", loader)).isEqualTo("v:k");
        assertThat(loaderCalls).as("answered by L2").hasValue(1);
        assertThat(c.stats().l2Hits()).isEqualTo(1);
        assertThat(c.getIfPresent("absent")).isNull();
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#typesWithPostgres")
  void concurrentMissesOnOneKeyLoadOnce(String type) throws Exception {
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      int threads = 16;
      CountDownLatch release = new CountDownLatch(1);
      CountDownLatch started = new CountDownLatch(1);
      ExecutorService ex = Executors.newFixedThreadPool(threads);
      try {
        List<Future<String>> fs = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
          fs.add(
              ex.submit(
                  () ->
                      c.get(
                          "hot",
                          k -> {
                            started.countDown();
                            loaderCalls.incrementAndGet();
                            try {
                              release.await();
                            } catch (InterruptedException e) {
                              throw new IllegalStateException(e);
                            }
                            return "loaded";
                          })));
        }
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(100); // let the other threads pile up on the running load
        release.countDown();
        for (Future<String> f : fs) {
          assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo("loaded");
        }
      } finally {
        ex.shutdownNow();
      }
      assertThat(loaderCalls).hasValue(1);
      assertThat(c.stats().loads()).isEqualTo(1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#typesWithPostgres")
  void loaderFailureReachesTheCallerAndCachesNothing(String type) {
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      assertThatThrownBy(
              () ->
                  c.get(
                      "k",
                      k -> {
                        throw new IllegalStateException("source down");
                      }))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("source down");
      assertThat(c.stats().loadFailures()).isEqualTo(1);
      assertThat(c.stats().degraded()).isFalse();
      assertThat(c.get("k", k -> null)).isNull();
      assertThat(c.get("k", loader)).isEqualTo("v:k");
      assertThat(loaderCalls).hasValue(1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#typesWithPostgres")
  void ttlExpiresBothTiers(String type) {
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      c.put("k", "written");
      clock.advance(Duration.ofMinutes(9));
      assertThat(c.get("k", loader)).isEqualTo("written");
      clock.advance(Duration.ofMinutes(1));
      assertThat(c.getIfPresent("k")).isNull();
      assertThat(c.get("k", loader)).isEqualTo("v:k");
      assertThat(loaderCalls).hasValue(1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#typesWithPostgres")
  void expiredL1CopiesAreReclaimedOnLookupAndByPurge(String type) {
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      c.put("a", "1");
      c.put("b", "2");
      clock.advance(Duration.ofMinutes(10));
      assertThat(c.getIfPresent("a")).as("expired exactly at the TTL").isNull();
      assertThat(c.stats().l1Hits()).isZero();
      c.purgeExpired();
      assertThat(c.stats().l1Size()).as("both expired copies reclaimed").isZero();
      c.put("a", "3");
      assertThat(c.getIfPresent("a")).isEqualTo("3");
      assertThat(c.stats().l1Hits()).isEqualTo(1);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#typesWithPostgres")
  void validatorRejectsStaleValuesInBothTiers(String type) {
    Set<String> stale = ConcurrentHashMap.newKeySet();
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c =
            TieredCache.open(r, "c", Codec.utf8(), Codec.utf8(), (k, v) -> !stale.contains(v))) {
      c.put("k", "old");
      assertThat(c.get("k", loader)).isEqualTo("old");
      stale.add("old");
      assertThat(c.get("k", loader)).isEqualTo("v:k");
      assertThat(c.stats().rejected()).isEqualTo(1);
      assertThat(TestBackends.storedValue(r.backend("b").keyValue("cache.c"), utf8("k")))
          .isEqualTo(utf8("v:k"));
    }
    // A rejected value found in L2 (L1 cold) is dropped from L2 too.
    Set<String> rejectAll = Set.of("v:k");
    try (PersistenceRegistry r = open(type)) {
      if (type.equals("memory")) {
        return; // memory L2 did not survive the registry
      }
      try (TieredCache<String, String> c =
          TieredCache.open(r, "c", Codec.utf8(), Codec.utf8(), (k, v) -> !rejectAll.contains(v))) {
        assertThat(c.get("k", k -> "fresh")).isEqualTo("fresh");
        assertThat(c.stats().rejected()).isEqualTo(1);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#typesWithPostgres")
  void invalidateAndInvalidateAllClearBothTiers(String type) {
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      KeyValueStore l2 = r.backend("b").keyValue("cache.c");
      for (int i = 0; i < 2500; i++) {
        c.put("k" + i, "v" + i);
      }
      c.invalidate("k1");
      assertThat(l2.get(utf8("k1"))).isNull();
      assertThat(c.getIfPresent("k1")).isNull();
      assertThat(c.getIfPresent("k2")).isEqualTo("v2");
      c.invalidateAll();
      assertThat(l2.approximateCount()).isZero();
      assertThat(c.getIfPresent("k2")).isNull();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#typesWithPostgres")
  void warmLoadsMissingKeysWithProgressAndWarmFromL2FillsL1(String type) {
    try (PersistenceRegistry r = open(type)) {
      List<String> keys =
          IntStream.range(0, 600).mapToObj(i -> "k" + i).collect(Collectors.toList());
      List<long[]> reports = new ArrayList<>();
      try (TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
        c.put("k0", "present");
        long loaded =
            c.warm(keys, loader, (phase, done, total) -> reports.add(new long[] {done, total}));
        assertThat(loaded).isEqualTo(599);
        assertThat(c.getIfPresent("k0")).isEqualTo("present");
      }
      assertThat(reports.get(0)).containsExactly(0, 600);
      assertThat(reports.get(reports.size() - 1)).containsExactly(600, 600);
      try (TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
        List<String> phases = new ArrayList<>();
        assertThat(c.warmFromL2(1000, (phase, done, total) -> phases.add(phase))).isEqualTo(600);
        assertThat(phases).contains("warm-from-l2");
        assertThat(c.get("k5", loader)).isEqualTo("v:k5");
        assertThat(c.stats().l1Hits()).as("warmed into L1").isEqualTo(1);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#typesWithPostgres")
  void metricsAndHealthCheckAreRegisteredAndRemovedOnClose(String type) {
    try (PersistenceRegistry r = open(type)) {
      TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
      c.get("a", loader);
      c.get("a", loader);
      assertThat(r.metrics().getCounters().get("cairn.caches.c.l1.hits").getCount()).isEqualTo(1L);
      assertThat(r.metrics().getCounters().get("cairn.caches.c.loads").getCount()).isEqualTo(1L);
      assertThat(r.metrics().getTimers().get("cairn.caches.c.load").getCount()).isEqualTo(1);
      assertThat(r.healthChecks().runHealthCheck("cairn.caches.c").isHealthy()).isTrue();
      assertThatThrownBy(() -> TieredCache.open(r, "c", Codec.utf8(), Codec.utf8()))
          .isInstanceOf(PersistenceException.class)
          .hasMessageContaining("already open");
      c.close();
      assertThat(r.metrics().getMetrics().keySet()).noneMatch(n -> n.startsWith("cairn.caches.c."));
      assertThat(r.healthChecks().getNames()).doesNotContain("cairn.caches.c");
      assertThatThrownBy(() -> c.get("b", loader)).isInstanceOf(ClosedException.class);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#typesWithPostgres")
  void weightBoundL1FromTheMemoryConstrainedProfile(String type) {
    try (PersistenceRegistry r =
            TestBackends.open(
                type,
                dir,
                clock,
                "cairn.caches.w { backend = b, profile = memory-constrained, l1.max-weight = 1KiB }"
                    + "\n");
        TieredCache<String, byte[]> c = TieredCache.openRaw(r, "w")) {
      for (int i = 0; i < 100; i++) {
        c.put("k" + i, new byte[100]);
      }
      c.purgeExpired();
      assertThat(c.stats().l1Size()).isLessThanOrEqualTo(10);
      assertThat(c.getIfPresent("k0")).as("evicted from L1, still in L2").hasSize(100);
    }
  }

  /**
   * A backend closed under an open cache is an outage that does not end: L1 keeps serving what it
   * holds (TieredCache's "Degradation"; on PostgreSQL it hears no other instance's writes
   * meanwhile, documented there), the rest comes from the loader. Nothing here waits or races by
   * design: open returns after the one resync of the cache's subscription, and closing the backend
   * sends none. So "v:cached" for "cached" means something emptied L1 after the put: seen once on
   * PostgreSQL, a second resync after open (the listening thread's and subscribe's own, both sent
   * when subscribe saw the LISTEN between the thread's publishing it and its resync), against
   * ChangeNotifications' "resync once"; fixed in backend-postgres (PostgresNotificationsTest).
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#typesWithPostgres")
  void closedBackendDegradesToL1AndLoader(String type) {
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      c.put("cached", "in-l1");
      r.backend("b").close();
      assertThat(c.get("cached", loader))
          .as("L1 still serves what was put before the backend closed")
          .isEqualTo("in-l1");
      assertThat(c.get("new", loader)).isEqualTo("v:new");
      c.put("other", "x");
      c.invalidate("cached");
      assertThat(c.isDegraded()).isTrue();
      assertThat(c.stats().l2Errors()).isEqualTo(1);
      HealthCheck.Result health = r.healthChecks().runHealthCheck("cairn.caches.c");
      assertThat(health.isHealthy()).isFalse();
      assertThat(health.getMessage()).contains("degraded");
      assertThat(c.get("other", loader)).isEqualTo("x");
    }
  }
}
