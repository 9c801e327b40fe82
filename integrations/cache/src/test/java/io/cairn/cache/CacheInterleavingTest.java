package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.cache.CacheHooks.Step;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Deterministic interleavings of a read with {@code invalidate} and {@code put} (issue 20 item 1):
 * one thread is paused at an exact step through {@link CacheHooks} while another operation runs to
 * completion, then the first resumes. Each case is the interleaving that served a stale value (or
 * ran two loads of one key) before the per-key write sequence of {@link TieredCache}; no sleeps,
 * every wait is for an event, with a generous timeout.
 */
class CacheInterleavingTest {
  private static final String CACHE = "cairn.cache.c { backend = b, ttl = 10m }\n";
  private static final long WAIT_S = 60;

  @TempDir Path dir;
  final ManualClock clock = new ManualClock();
  final ExecutorService exec = Executors.newCachedThreadPool();
  final Gates gates = new Gates();

  @AfterEach
  void stop() {
    exec.shutdownNow();
  }

  /** Pauses the first thread reaching a step, or runs an action there, once per registration. */
  static final class Gates implements CacheHooks {
    private final Map<Step, Gate> pauses = new ConcurrentHashMap<>();
    private final Map<Step, Runnable> actions = new ConcurrentHashMap<>();

    Gate pause(Step s) {
      Gate g = new Gate(s);
      pauses.put(s, g);
      return g;
    }

    void runOnce(Step s, Runnable r) {
      actions.put(s, r);
    }

    /** Drops an action not reached (yet). */
    void cancel(Step s) {
      actions.remove(s);
    }

    @Override
    public void at(Step step, Object key) {
      Runnable r = actions.remove(step);
      if (r != null) {
        r.run();
      }
      Gate g = pauses.remove(step);
      if (g != null) {
        g.block();
      }
    }
  }

  static final class Gate {
    final Step step;
    final CountDownLatch arrived = new CountDownLatch(1);
    final CountDownLatch released = new CountDownLatch(1);

    Gate(Step step) {
      this.step = step;
    }

    void block() {
      arrived.countDown();
      await(released, "release of " + step);
    }

    void awaitArrived() {
      await(arrived, "a thread at " + step);
    }

    void release() {
      released.countDown();
    }
  }

  static void await(CountDownLatch l, String what) {
    try {
      assertThat(l.await(WAIT_S, TimeUnit.SECONDS)).as("waited for " + what).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static <T> T done(Future<T> f) throws Exception {
    return f.get(WAIT_S, TimeUnit.SECONDS);
  }

  private PersistenceRegistry open(String type) {
    return TestBackends.open(type, dir, clock, CACHE);
  }

  private TieredCache<String, String> cache(PersistenceRegistry r) {
    TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
    c.hooks(gates);
    return c;
  }

  private static String rawL2(PersistenceRegistry r, String key) {
    byte[] v =
        TestBackends.storedValue(
            r.backend("b").keyValue("cache.c"), key.getBytes(StandardCharsets.UTF_8));
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }

  /**
   * Tags (issue 16): a miss read a tagged entry from L2 (still live), then invalidateTag ran to
   * completion; the miss may answer its caller but must not put the value back into L1.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#types")
  void missReadingATaggedEntryBeforeInvalidateTagDoesNotRefillL1(String type) throws Exception {
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c = cache(r)) {
      c.put("k", "old", java.util.List.of("upstream-7"));
      c.invalidateL1ForTest("k");
      Gate read = gates.pause(Step.L2_READ);
      Future<String> miss = exec.submit(() -> c.getIfPresent("k"));
      read.awaitArrived();
      done(exec.submit(() -> c.invalidateTag("upstream-7")));
      read.release();
      assertThat(done(miss)).as("a read concurrent with invalidateTag").isIn("old", null);
      c.awaitFillsForTest(); // L1's fill runs on the fill thread: let it run before looking
      assertThat(c.getIfPresent("k")).as("after invalidateTag returned").isNull();
      assertThat(c.get("k", k -> "fresh")).isEqualTo("fresh");
    }
  }

  /**
   * An L2 hit fills L1 on the fill thread, after the reader returned (issue 16: the L1 fill is off
   * the reader's thread). A put, invalidate or invalidateTag that runs to completion while that
   * fill still waits must win: the fill re-checks the key's write sequence inside L1's {@code
   * compute} and stores nothing, however late it runs. Without the re-check L1 would be left
   * holding the old value, served by the next read.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("typesAndWrites")
  void anL1FillStillWaitingWhenTheKeyIsWrittenStoresNothing(String type, String write)
      throws Exception {
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c = cache(r)) {
      c.put("k", "v1", java.util.List.of("t"));
      c.invalidateL1ForTest("k"); // v1 only in L2, as after an eviction or a restart
      Gate fill = gates.pause(Step.L1_FILL);
      assertThat(c.getIfPresent("k")).as("answered by L2").isEqualTo("v1");
      fill.awaitArrived(); // the reader has returned; its L1 fill waits on the fill thread
      switch (write) {
        case "put" -> c.put("k", "v2");
        case "invalidate" -> c.invalidate("k");
        case "invalidateTag" -> c.invalidateTag("t");
        default -> throw new IllegalArgumentException(write);
      }
      fill.release();
      c.awaitFillsForTest();
      String expected = write.equals("put") ? "v2" : null;
      assertThat(c.getIfPresent("k"))
          .as("read after " + write + " and the fill")
          .isEqualTo(expected);
      assertThat(c.stats().l1Hits())
          .as("the read above was not served the old value from L1")
          .isEqualTo(write.equals("put") ? 1 : 0);
    }
  }

  static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> typesAndWrites() {
    return TestBackends.types()
        .flatMap(
            t ->
                java.util.stream.Stream.of("put", "invalidate", "invalidateTag")
                    .map(w -> org.junit.jupiter.params.provider.Arguments.of(t, w)));
  }

  /**
   * Tags: a load of a tagged key got its value, then invalidateTag ran to completion; the
   * write-back must cache it in no tier.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#types")
  void loadFinishingAfterInvalidateTagCachesNothing(String type) throws Exception {
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c = cache(r)) {
      Gate writeBack = gates.pause(Step.LOAD_WRITE_BACK);
      Future<String> load =
          exec.submit(() -> c.get("k", k -> "old", java.util.List.of("upstream-7")));
      writeBack.awaitArrived();
      done(exec.submit(() -> c.invalidateTag("upstream-7")));
      writeBack.release();
      assertThat(done(load)).isEqualTo("old");
      assertThat(c.getIfPresent("k")).isNull();
      assertThat(rawL2(r, "k")).isNull();
    }
  }

  /**
   * (a) invalidate cleared L1; a miss reads the old L2 value and refills L1 before L2 is cleared.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#types")
  void missDuringInvalidateDoesNotRefillL1WithTheOldValue(String type) throws Exception {
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c = cache(r)) {
      c.put("k", "old");
      Gate inv = gates.pause(Step.INVALIDATE_BEFORE_L2);
      Future<?> invalidate = exec.submit(() -> c.invalidate("k"));
      inv.awaitArrived();
      String during = done(exec.submit(() -> c.get("k", k -> "fresh")));
      assertThat(during).as("a read concurrent with invalidate").isIn("old", "fresh");
      inv.release();
      done(invalidate);
      c.awaitFillsForTest();

      assertThat(c.getIfPresent("k")).as("L1 after invalidate returned").isNull();
      assertThat(rawL2(r, "k")).as("L2 after invalidate returned").isNull();
      assertThat(c.get("k", k -> "fresh")).isEqualTo("fresh");
    }
  }

  /**
   * (b) a load that passed its "still current?" check writes its value back after invalidate
   * returned; a reader in that window fills L1 from L2.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#types")
  void loadFinishingAfterInvalidateCachesNothing(String type) throws Exception {
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c = cache(r)) {
      Gate writeBack = gates.pause(Step.LOAD_WRITE_BACK);
      Future<String> load = exec.submit(() -> c.get("k", k -> "old"));
      writeBack.awaitArrived();
      done(exec.submit(() -> c.invalidate("k")));
      AtomicReference<String> readInWindow = new AtomicReference<>();
      gates.runOnce(
          Step.LOAD_L2_WRITTEN,
          () -> {
            try {
              readInWindow.set(done(exec.submit(() -> c.get("k", k -> "fresh"))));
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          });
      writeBack.release();
      assertThat(done(load)).as("the load still answers its own caller").isEqualTo("old");
      gates.cancel(Step.LOAD_L2_WRITTEN); // reached only if the old value was written back

      assertThat(readInWindow.get()).as("a read after invalidate returned").isNotEqualTo("old");
      assertThat(c.getIfPresent("k")).as("L1 after invalidate returned").isNotEqualTo("old");
      assertThat(rawL2(r, "k")).as("L2 after invalidate returned").isNotEqualTo("old");
      assertThat(c.get("k", k -> "fresh")).isEqualTo("fresh");
    }
  }

  /** (c) put(k, v2) races a miss that read v1 from L2 before the put and fills L1 after it. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#types")
  void missOverlappingPutDoesNotLeaveTheOldValueInL1(String type) throws Exception {
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c = cache(r)) {
      c.put("k", "v1");
      c.invalidateL1ForTest("k"); // v1 only in L2, as after an eviction or a restart
      Gate put = gates.pause(Step.PUT_BEFORE_L2);
      Future<?> putting = exec.submit(() -> c.put("k", "v2"));
      put.awaitArrived();
      Gate read = gates.pause(Step.L2_READ);
      Future<String> reading = exec.submit(() -> c.get("k", k -> "loaded"));
      read.awaitArrived();
      put.release();
      done(putting);
      read.release();
      assertThat(done(reading)).as("a read concurrent with put").isIn("v1", "v2");
      c.awaitFillsForTest();

      assertThat(c.getIfPresent("k")).as("L1 after put returned").isEqualTo("v2");
      assertThat(rawL2(r, "k")).isEqualTo("v2");
    }
  }

  /**
   * A load running when invalidate returns must not run beside a second load of the key: the loader
   * is called at most once at a time per key. The later caller waits for the running load (whose
   * value it may not use) and then loads.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("io.cairn.cache.TestBackends#types")
  void invalidateDuringSlowLoadNeverRunsTwoLoadsAtOnce(String type) throws Exception {
    try (PersistenceRegistry r = open(type);
        TieredCache<String, String> c = cache(r)) {
      AtomicInteger calls = new AtomicInteger();
      AtomicInteger running = new AtomicInteger();
      AtomicInteger maxRunning = new AtomicInteger();
      CountDownLatch firstEntered = new CountDownLatch(1);
      CountDownLatch releaseFirst = new CountDownLatch(1);
      CountDownLatch secondArrived = new CountDownLatch(1);
      Function<String, String> loader =
          k -> {
            int n = calls.incrementAndGet();
            maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
              if (n == 1) {
                firstEntered.countDown();
                await(releaseFirst, "release of the first load");
              } else {
                secondArrived.countDown(); // the defect: loading beside the first
              }
              return "load" + n;
            } finally {
              running.decrementAndGet();
            }
          };
      Future<String> first = exec.submit(() -> c.get("k", loader));
      await(firstEntered, "the first load");
      c.invalidate("k");
      gates.runOnce(Step.FLIGHT_WAIT, secondArrived::countDown); // the fix: waiting for it
      Future<String> second = exec.submit(() -> c.get("k", loader));
      await(secondArrived, "the second caller to load or wait");
      releaseFirst.countDown();

      assertThat(done(first)).isEqualTo("load1");
      assertThat(done(second)).as("a caller after invalidate gets a later load").isEqualTo("load2");
      assertThat(maxRunning).as("loads of one key running at once").hasValue(1);
      assertThat(c.getIfPresent("k")).isEqualTo("load2");
    }
  }
}
