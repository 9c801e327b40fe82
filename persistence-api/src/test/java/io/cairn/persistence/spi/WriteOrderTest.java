package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class WriteOrderTest {
  // blocking tasks: threads of their own, not the common pool (one thread on a 2-core machine)
  private static final java.util.concurrent.Executor THREADS =
      r -> {
        Thread t = new Thread(r, "write-order-test");
        t.setDaemon(true);
        t.start();
      };
  private static final StoreId KV = new StoreId(StoreKind.KEY_VALUE, "kv");
  private static final long TIMEOUT = 60;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Two keys on different stripes of {@code order}. */
  private static byte[][] keysOnTwoStripes(WriteOrder order) {
    byte[] first = b("k0");
    for (int i = 1; ; i++) {
      byte[] other = b("k" + i);
      if (order.stripeOf(KV, other) != order.stripeOf(KV, first)) {
        return new byte[][] {first, other};
      }
    }
  }

  /**
   * Starts {@code write} on another thread with an operation that stays inside until {@code
   * release} opens; returns once it is inside (holding whatever {@code write} takes).
   */
  private static CompletableFuture<Void> heldUntil(
      CountDownLatch release, Function<Supplier<Void>, Void> write) throws InterruptedException {
    CountDownLatch inside = new CountDownLatch(1);
    CompletableFuture<Void> held =
        run(
            () ->
                write.apply(
                    () -> {
                      inside.countDown();
                      await(release);
                      return null;
                    }));
    assertThat(inside.await(TIMEOUT, TimeUnit.SECONDS)).isTrue();
    return held;
  }

  /** Starts {@code write} on another thread with an operation that sets {@code ran}. */
  private static CompletableFuture<Void> marking(
      AtomicBoolean ran, Function<Supplier<Void>, Void> write) {
    return run(
        () ->
            write.apply(
                () -> {
                  ran.set(true);
                  return null;
                }));
  }

  /**
   * {@code second} (which sets {@code ran}) does not run while {@code first} holds, and runs once
   * {@code release} lets {@code first} finish.
   */
  private static void assertWaitsFor(
      CompletableFuture<Void> first,
      CountDownLatch release,
      CompletableFuture<Void> second,
      AtomicBoolean ran,
      String what)
      throws Exception {
    Thread.sleep(200); // a chance to run wrongly; the assertion below never depends on speed
    assertThat(ran).as(what).isFalse();
    release.countDown();
    first.get(TIMEOUT, TimeUnit.SECONDS);
    second.get(TIMEOUT, TimeUnit.SECONDS);
    assertThat(ran).isTrue();
  }

  @Test
  void writesOnDifferentStripesRunTogether() throws Exception {
    WriteOrder order = new WriteOrder(true);
    byte[][] keys = keysOnTwoStripes(order);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> first = heldUntil(release, op -> order.key(KV, keys[0], op));
    AtomicBoolean ran = new AtomicBoolean();
    // not blocked by the first
    marking(ran, op -> order.key(KV, keys[1], op)).get(TIMEOUT, TimeUnit.SECONDS);
    assertThat(ran).isTrue();
    release.countDown();
    first.get(TIMEOUT, TimeUnit.SECONDS);
  }

  @Test
  void withoutTheOptInEveryWriteWaitsForTheOther() throws Exception {
    WriteOrder order = new WriteOrder(false);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> first = heldUntil(release, op -> order.key(KV, b("a"), op));
    AtomicBoolean ran = new AtomicBoolean();
    CompletableFuture<Void> second = marking(ran, op -> order.key(KV, b("b"), op));
    assertWaitsFor(first, release, second, ran, "the second write while the first holds the lock");
  }

  @Test
  void aKeyWaitsForItsOwnStripeAndForAll() throws Exception {
    WriteOrder order = new WriteOrder(true);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> first = heldUntil(release, op -> order.key(KV, b("same"), op));
    AtomicBoolean ran = new AtomicBoolean();
    CompletableFuture<Void> second = marking(ran, op -> order.key(KV, b("same"), op));
    assertWaitsFor(first, release, second, ran, "a write of a key while another holds its stripe");

    CountDownLatch releaseAll = new CountDownLatch(1);
    CompletableFuture<Void> all = heldUntil(releaseAll, order::all);
    AtomicBoolean keyRan = new AtomicBoolean();
    CompletableFuture<Void> key = marking(keyRan, op -> order.key(KV, b("anything"), op));
    assertWaitsFor(all, releaseAll, key, keyRan, "a key write while all() holds the gate");
  }

  @Test
  void allWaitsForAWriteInFlightAndKeepsNewOnesOut() throws Exception {
    WriteOrder order = new WriteOrder(true);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> write = heldUntil(release, op -> order.key(KV, b("in flight"), op));
    AtomicBoolean ran = new AtomicBoolean();
    CompletableFuture<Void> all = marking(ran, order::all);
    assertWaitsFor(write, release, all, ran, "all() while a key write holds its stripe");
  }

  @Test
  void writesNestedInsideAllRun() {
    WriteOrder order = new WriteOrder(true);
    String nested =
        order.all(
            () ->
                order.key(
                    KV,
                    b("k"),
                    () ->
                        order.keys(
                            KV,
                            List.of(b("x"), b("y"), b("x")),
                            () -> order.store(KV, () -> order.all(() -> "nested")))));
    assertThat(nested).isEqualTo("nested");
    // every lock was released: another thread's all() goes through
    assertThat(run(() -> order.all(() -> null)))
        .succeedsWithin(java.time.Duration.ofSeconds(TIMEOUT));
  }

  @Test
  void severalKeysOnOneStripeAreTakenOnce() {
    WriteOrder order = new WriteOrder(true);
    byte[][] two = keysOnTwoStripes(order);
    List<byte[]> keys = List.of(two[1], two[0], two[1], two[0]);
    assertThat(order.keys(KV, keys, () -> "written")).isEqualTo("written");
    // released as often as taken: another thread can take both stripes at once
    assertThat(run(() -> order.keys(KV, keys, () -> null)))
        .succeedsWithin(java.time.Duration.ofSeconds(TIMEOUT));
  }

  @Test
  void takingSeveralStripesWhileHoldingOneIsRefused() {
    WriteOrder order = new WriteOrder(true);
    assertThatThrownBy(() -> order.key(KV, b("k"), () -> order.all(() -> null)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("index order");
    assertThatThrownBy(() -> order.key(KV, b("k"), () -> order.keys(KV, List.of(b("x")), () -> 1)))
        .isInstanceOf(IllegalStateException.class);
    // and every stripe was released: a later all() goes through
    assertThat(order.all(() -> "free")).isEqualTo("free");
  }

  private static CompletableFuture<Void> run(Runnable r) {
    return CompletableFuture.runAsync(r, THREADS);
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(TIMEOUT, TimeUnit.SECONDS)) {
        throw new AssertionError("not released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
