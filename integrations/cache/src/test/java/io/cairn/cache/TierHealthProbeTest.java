package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.Codec;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A degraded tier that nobody calls is retried by the health check, {@code isDegraded()} and the
 * {@code degraded} gauge once its retry time has passed (see "Probing a tier nobody calls" in
 * {@link StoreTier}): it is reported healthy once it is, a tier still down keeps moving its next
 * retry, the keys written during the outage are gone before it is reported healthy, and a hung tier
 * makes the health check report a timed-out probe instead of hanging it. A recovery hung on the
 * backend holds up no call either (see "Recovery off the callers' threads"): reads fall through to
 * the loader, writes and invalidations are remembered dirty, and none of them is served stale once
 * the tier recovers. Failures are injected by the {@code flaky} backend; time is a {@link
 * ManualClock}.
 */
class TierHealthProbeTest {
  private static final String CACHE =
      "cairn.caches.c { backend = b, ttl = 1h, l2 { retry-initial = 1s, retry-max = 4s } }\n";
  private static final String CHECK = "cairn.caches.c";
  private static final String PROBE_THREAD = "cairn-cache-probe-c-b";

  // the health check may wait half a second for a probe; this only bounds a starved machine
  private static final Duration HANG = Duration.ofSeconds(20);

  @TempDir Path dir;
  final ManualClock clock = new ManualClock();
  final CountDownLatch release = new CountDownLatch(1);

  @BeforeEach
  void reset() {
    FlakyBackendProvider.FAILING.set(false);
    FlakyBackendProvider.FAILED_CALLS.set(0);
    FlakyBackendProvider.DELETED.clear();
    FlakyBackendProvider.HUNG_CALLS.set(0);
  }

  @AfterEach
  void heal() throws InterruptedException {
    FlakyBackendProvider.FAILING.set(false);
    FlakyBackendProvider.PARK_NEXT_DELETE.set(null);
    release.countDown(); // a parked probe or call ends
    joinProbe();
    FlakyBackendProvider.HANG = null;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private Instant at(long secondsFromStart) {
    return ManualClock.START.plusSeconds(secondsFromStart);
  }

  /** Waits for the probe thread to end, if one runs (none on a cache that never probes). */
  private static void joinProbe() throws InterruptedException {
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals(PROBE_THREAD)) {
        t.join(HANG.toMillis());
        assertThat(t.isAlive()).as("probe thread ended").isFalse();
      }
    }
  }

  @Test
  void aTierThatRecoveredWhileNobodyCalledItIsHealthyAtTheNextCheckAfterItsRetryTime() {
    try (PersistenceRegistry r = TestBackends.open("flaky", dir, clock, CACHE);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      c.probeWaitForTest(HANG.toMillis()); // a probe of a tier that answers ends in this
      c.put("k", "v1");
      FlakyBackendProvider.FAILING.set(true);
      c.put("k", "v2"); // fails in the tier: degraded, k dirty; L1 holds v2
      HealthCheck.Result down = r.healthChecks().runHealthCheck(CHECK);
      assertThat(down.isHealthy()).isFalse();
      assertThat(down.getMessage())
          .contains("failing since " + at(0))
          .contains("no space left")
          .contains("not retried yet")
          .contains("next retry at " + at(1));

      FlakyBackendProvider.FAILING.set(false); // the tier is back; reads are all L1 hits
      assertThat(c.get("k", x -> "unused")).isEqualTo("v2");
      clock.advance(Duration.ofSeconds(1));

      HealthCheck.Result up = r.healthChecks().runHealthCheck(CHECK);
      assertThat(up.isHealthy()).as(up.getMessage()).isTrue();
      assertThat(c.isDegraded()).isFalse();
      assertThat(r.backend("b").keyValue("cache.c").get(utf8("k")))
          .as("v1, older than the outage's write, was dropped before the tier served again")
          .isNull();
      assertThat(c.get("k", x -> "unused")).isEqualTo("v2");
    }
  }

  @Test
  void aTierStillDownStaysUnhealthyAndItsNextRetryMoves() {
    try (PersistenceRegistry r = TestBackends.open("flaky", dir, clock, CACHE);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      c.probeWaitForTest(HANG.toMillis()); // a probe of a tier that answers ends in this
      FlakyBackendProvider.FAILING.set(true);
      assertThat(c.getIfPresent("x")).isNull(); // a read fails: degraded, nothing dirty
      assertThat(FlakyBackendProvider.FAILED_CALLS.get()).isEqualTo(1);

      clock.advance(Duration.ofSeconds(1));
      HealthCheck.Result r1 = r.healthChecks().runHealthCheck(CHECK);
      assertThat(r1.isHealthy())
          .as("nothing was dirty, yet the retry asked the backend: " + r1.getMessage())
          .isFalse();
      assertThat(r1.getMessage())
          .contains("failing since " + at(0))
          .contains("last retry (by a probe) failed at " + at(1))
          .contains("next retry at " + at(3));
      assertThat(FlakyBackendProvider.FAILED_CALLS.get()).isEqualTo(2);

      clock.advance(Duration.ofSeconds(1)); // before the next retry: no probe
      assertThat(c.isDegraded()).isTrue();
      assertThat(FlakyBackendProvider.FAILED_CALLS.get()).isEqualTo(2);

      clock.advance(Duration.ofSeconds(1));
      assertThat(c.isDegraded()).as("probed again at its retry time, still down").isTrue();
      assertThat(FlakyBackendProvider.FAILED_CALLS.get()).isEqualTo(3);
      assertThat(r.healthChecks().runHealthCheck(CHECK).getMessage())
          .contains("last retry (by a probe) failed at " + at(3))
          .contains("next retry at " + at(7));
    }
  }

  @Test
  void aHungTierReportsATimedOutProbeAndTheDirtyKeysGoBeforeItIsHealthy() throws Exception {
    try (PersistenceRegistry r = TestBackends.open("flaky", dir, clock, CACHE);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      StoreTier tier = c.chain().tiers().get(0);
      degradeAndHangTheNextDelete(c); // the probe's delete of k hangs

      HealthCheck.Result hung =
          assertTimeoutPreemptively(HANG, () -> r.healthChecks().runHealthCheck(CHECK));
      assertThat(hung.isHealthy()).as(hung.getMessage()).isFalse();
      assertThat(hung.getMessage())
          .contains("probe timed out")
          .contains("a retry started at " + at(1));
      assertThat(hung.getDetails()).containsEntry("probe-timed-out", true);
      java.util.regex.Matcher waited =
          java.util.regex.Pattern.compile("has not answered after (\\d+) ms")
              .matcher(hung.getMessage());
      assertThat(waited.find()).as(hung.getMessage()).isTrue();
      assertThat(Long.parseLong(waited.group(1)))
          .as("it waited for the probe the whole bound before reporting it hung")
          .isGreaterThanOrEqualTo(StoreTier.PROBE_WAIT_MS);
      assertThat(FlakyBackendProvider.PARKED.await(HANG.toMillis(), TimeUnit.MILLISECONDS))
          .isTrue();
      // the probe is inside the delete of k: k's old value is still in the tier
      assertThat(TestBackends.storedValue(r.backend("b").keyValue("cache.c"), utf8("k")))
          .isEqualTo(utf8("v1"));
      assertThat(tier.degraded()).as("not serving while v1 is there").isTrue();
      HealthCheck.Result again =
          assertTimeoutPreemptively(HANG, () -> r.healthChecks().runHealthCheck(CHECK));
      assertThat(again.isHealthy()).as(again.getMessage()).isFalse();
      assertThat(again.getMessage()).contains("probe timed out");

      release.countDown();
      joinProbe();
      assertThat(r.healthChecks().runHealthCheck(CHECK).isHealthy()).isTrue();
      assertThat(r.backend("b").keyValue("cache.c").get(utf8("k"))).isNull();
      assertThat(FlakyBackendProvider.DELETED)
          .as("one probe ran while the first hung")
          .containsExactly("k");
    }
  }

  @Test
  void aCallThatStartsAHungRecoveryWaitsForItOnlyWithinTheBoundAndItRunsOnce() throws Exception {
    try (PersistenceRegistry r = TestBackends.open("flaky", dir, clock, CACHE);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      degradeAndHangTheNextDelete(c);
      // a call reaches the tier after its retry time: the recovery it starts hangs deleting k, and
      // the call goes on as during the outage ("other" remembered dirty)
      assertTimeoutPreemptively(HANG, () -> c.invalidate("other"));
      assertThat(FlakyBackendProvider.PARKED.await(HANG.toMillis(), TimeUnit.MILLISECONDS))
          .isTrue();

      HealthCheck.Result during =
          assertTimeoutPreemptively(HANG, () -> r.healthChecks().runHealthCheck(CHECK));
      assertThat(during.isHealthy()).as(during.getMessage()).isFalse();
      assertThat(during.getMessage()).contains("probe timed out");

      release.countDown();
      joinProbe();
      assertThat(r.healthChecks().runHealthCheck(CHECK).isHealthy()).isTrue();
      assertThat(FlakyBackendProvider.DELETED)
          .as("k by the recovery's first round, other (marked while it hung) by its second")
          .containsExactly("k", "other");
    }
  }

  /**
   * The defect this guards against: a recovery ran under the tier's monitor on the thread of the
   * call that found it due, and every other call waited on that monitor, so a backend that stopped
   * answering during a recovery stopped the service. Here every operation on the backend hangs from
   * the retry on: the call that starts the recovery returns after its bounded wait, concurrent gets
   * answer from the loader, puts and invalidations return, and no call reaches the backend; once it
   * answers again the tier recovers and serves none of the values the outage made stale.
   */
  @Test
  void callsDuringAHungRecoveryNeitherWaitNorReachTheBackendAndNothingStaleIsServedAfter()
      throws Exception {
    int readers = 8;
    AtomicInteger loads = new AtomicInteger();
    java.util.function.Function<String, String> loader =
        key -> {
          loads.incrementAndGet();
          return "loaded:" + key;
        };
    ExecutorService pool = Executors.newFixedThreadPool(readers + 3);
    try (PersistenceRegistry r = TestBackends.open("flaky", dir, clock, CACHE);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      KeyValueStore l2 = r.backend("b").keyValue("cache.c");
      for (String k : List.of("a", "b", "x")) {
        c.put(k, "old");
      }
      FlakyBackendProvider.FAILING.set(true);
      c.put("x", "new"); // fails in the tier: degraded, x dirty
      FlakyBackendProvider.FAILING.set(false);
      FlakyBackendProvider.HUNG_REACHED = new CountDownLatch(1);
      FlakyBackendProvider.HANG = release; // from now on the backend answers nothing
      clock.advance(Duration.ofSeconds(1));

      Future<String> first = pool.submit(() -> c.get("first", loader));
      assertThat(first.get(HANG.toSeconds(), TimeUnit.SECONDS))
          .as("the call that started the recovery answered from the loader")
          .isEqualTo("loaded:first");
      assertThat(FlakyBackendProvider.HUNG_REACHED.await(HANG.toMillis(), TimeUnit.MILLISECONDS))
          .as("the recovery is hung on the backend")
          .isTrue();

      CountDownLatch go = new CountDownLatch(1);
      List<Future<?>> calls = new ArrayList<>();
      for (int i = 0; i < readers; i++) {
        String key = "g" + i;
        calls.add(pool.submit(() -> awaitThen(go, () -> c.get(key, loader))));
      }
      calls.add(pool.submit(() -> awaitThen(go, () -> c.put("a", "new"))));
      calls.add(pool.submit(() -> awaitThen(go, () -> c.invalidate("b"))));
      go.countDown();
      for (int i = 0; i < calls.size(); i++) {
        Object got = calls.get(i).get(HANG.toSeconds(), TimeUnit.SECONDS);
        if (i < readers) {
          assertThat(got).isEqualTo("loaded:g" + i);
        }
      }
      assertThat(loads).as("every get answered from the loader").hasValue(readers + 1);
      assertThat(FlakyBackendProvider.HUNG_CALLS)
          .as("only the recovery reached the hung backend; no call did")
          .hasValue(1);
      assertThat(assertTimeoutPreemptively(HANG, c::isDegraded)).isTrue();

      release.countDown();
      joinProbe();
      assertThat(c.isDegraded()).isFalse();
      for (String k : List.of("x", "a", "b")) {
        assertThat(l2.get(utf8(k)))
            .as(
                k
                    + ", written or invalidated during the outage, was dropped before the tier served")
            .isNull();
      }
      c.invalidateL1ForTest("a");
      assertThat(c.get("a", loader)).as("the old a is not served").isEqualTo("loaded:a");
      assertThat(c.get("b", loader)).as("the invalidated b is not served").isEqualTo("loaded:b");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aTagInvalidatedDuringAHungRecoveryDoesNotWaitAndTheTierIsClearedBeforeItServes()
      throws Exception {
    try (PersistenceRegistry r = TestBackends.open("flaky", dir, clock, CACHE);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      KeyValueStore l2 = r.backend("b").keyValue("cache.c");
      c.put("t", "old", List.of("tag"));
      c.put("u", "untagged");
      degradeAndHangTheNextDelete(c);
      assertThat(c.chain().tiers().get(0).probeIfDue()).as("the recovery starts").isNotNull();
      assertThat(FlakyBackendProvider.PARKED.await(HANG.toMillis(), TimeUnit.MILLISECONDS))
          .isTrue();

      assertTimeoutPreemptively(HANG, () -> c.invalidateTag("tag"));

      release.countDown();
      joinProbe();
      assertThat(c.isDegraded()).isFalse();
      assertThat(l2.get(utf8("t"))).as("the tagged entry is gone with the whole tier").isNull();
      assertThat(l2.get(utf8("u"))).isNull();
      c.invalidateL1ForTest("t");
      assertThat(c.get("t", k -> "loaded")).isEqualTo("loaded");
    }
  }

  @Test
  void aRecoveryOutrunByWritesEndsAsAFailedRetryAndTheNextOneRecovers() throws Exception {
    try (PersistenceRegistry r = TestBackends.open("flaky", dir, clock, CACHE);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      StoreTier tier = c.chain().tiers().get(0);
      KeyValueStore l2 = r.backend("b").keyValue("cache.c");
      c.put("x", "old");
      FlakyBackendProvider.FAILING.set(true);
      c.put("x", "new"); // degraded at 0 s, x dirty, retry at 1 s
      FlakyBackendProvider.FAILING.set(false);
      clock.advance(Duration.ofSeconds(1));
      CountDownLatch parked = parkNextDelete();
      assertThat(tier.probeIfDue()).isNotNull();
      List<String> expected = new ArrayList<>(List.of("x"));
      for (int round = 1; round <= StoreTier.MAX_RECOVERY_ROUNDS; round++) {
        // this round hangs deleting what was written during the last; a write comes meanwhile
        assertThat(FlakyBackendProvider.PARKED.await(HANG.toMillis(), TimeUnit.MILLISECONDS))
            .isTrue();
        String w = "w" + round;
        int n = round;
        assertTimeoutPreemptively(HANG, () -> c.put(w, "v" + n)); // remembered dirty
        assertThat(l2.get(utf8(w))).isNull();
        if (round < StoreTier.MAX_RECOVERY_ROUNDS) {
          expected.add(w);
        }
        CountDownLatch previous = parked;
        parked = parkNextDelete();
        previous.countDown();
      }
      FlakyBackendProvider.PARK_NEXT_DELETE.set(null);
      parked.countDown();
      joinProbe();
      assertThat(tier.degraded()).isTrue();
      assertThat(FlakyBackendProvider.DELETED).containsExactlyElementsOf(expected);
      assertThat(r.healthChecks().runHealthCheck(CHECK).getMessage())
          .contains("recovery outrun by writes: after " + StoreTier.MAX_RECOVERY_ROUNDS + " rounds")
          .contains("1 more key(s) arrived during the last round")
          .contains("last retry (by a probe) failed at " + at(1))
          .contains("next retry at " + at(3));

      clock.advance(Duration.ofSeconds(2));
      c.probeWaitForTest(HANG.toMillis()); // a probe of a tier that answers ends in this
      assertThat(c.isDegraded()).isFalse();
      String last = "w" + StoreTier.MAX_RECOVERY_ROUNDS;
      assertThat(FlakyBackendProvider.DELETED).endsWith(last);
      assertThat(c.get(last, k -> "unused")).isEqualTo("v" + StoreTier.MAX_RECOVERY_ROUNDS);
    }
  }

  /** Makes the next delete on the backend wait for the returned latch ({@code PARKED} counts). */
  private static CountDownLatch parkNextDelete() {
    CountDownLatch latch = new CountDownLatch(1);
    FlakyBackendProvider.PARKED = new CountDownLatch(1);
    FlakyBackendProvider.PARK_NEXT_DELETE.set(latch);
    return latch;
  }

  private static Object awaitThen(CountDownLatch go, java.util.concurrent.Callable<?> call)
      throws Exception {
    go.await();
    return call.call();
  }

  private static Object awaitThen(CountDownLatch go, Runnable call) throws Exception {
    go.await();
    call.run();
    return null;
  }

  @Test
  void theDegradedGaugeStartsTheRetryWithoutWaitingAndShowsItsOutcomeNextTime() throws Exception {
    try (PersistenceRegistry r = TestBackends.open("flaky", dir, clock, CACHE);
        TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8())) {
      c.probeWaitForTest(HANG.toMillis()); // a probe of a tier that answers ends in this
      @SuppressWarnings("unchecked")
      Gauge<Long> gauge = (Gauge<Long>) r.metrics().getGauges().get("cairn.caches.c.degraded");
      FlakyBackendProvider.FAILING.set(true);
      c.getIfPresent("x");
      assertThat(gauge.getValue()).isEqualTo(1L);
      FlakyBackendProvider.FAILING.set(false);
      clock.advance(Duration.ofSeconds(1));
      FlakyBackendProvider.PARKED = new CountDownLatch(1);
      FlakyBackendProvider.PARK_NEXT_DELETE.set(release); // the probe row's delete
      assertThat(assertTimeoutPreemptively(HANG, gauge::getValue))
          .as("a scrape does not wait for the retry")
          .isEqualTo(1L);
      assertThat(FlakyBackendProvider.PARKED.await(HANG.toMillis(), TimeUnit.MILLISECONDS))
          .isTrue();
      release.countDown();
      joinProbe();
      assertThat(gauge.getValue()).isEqualTo(0L);
      assertThat(c.tierStats().get(0).degraded()).isFalse();
    }
  }

  /**
   * Puts k = v1, fails the tier on k = v2 (degraded, k dirty), lets the backend come back, passes
   * the retry time and makes the next delete on the backend hang until {@code release} opens.
   */
  private void degradeAndHangTheNextDelete(TieredCache<String, String> c) {
    c.put("k", "v1");
    FlakyBackendProvider.FAILING.set(true);
    c.put("k", "v2"); // degraded, k dirty
    FlakyBackendProvider.FAILING.set(false);
    clock.advance(Duration.ofSeconds(1));
    FlakyBackendProvider.PARKED = new CountDownLatch(1);
    FlakyBackendProvider.PARK_NEXT_DELETE.set(release);
  }
}
