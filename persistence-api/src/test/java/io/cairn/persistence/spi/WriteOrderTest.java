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

  /** Runs {@code key(k)} on another thread; true once it entered, which it does only when free. */
  private static CompletableFuture<Void> writeOn(
      WriteOrder order, byte[] k, AtomicBoolean entered) {
    return run(
        () ->
            order.key(
                KV,
                k,
                () -> {
                  entered.set(true);
                  return null;
                }));
  }

  @Test
  void writesOnDifferentStripesRunTogether() throws Exception {
    WriteOrder order = new WriteOrder(true);
    byte[][] keys = keysOnTwoStripes(order);
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> first =
        run(
            () ->
                order.key(
                    KV,
                    keys[0],
                    () -> {
                      inside.countDown();
                      await(release);
                      return null;
                    }));
    assertThat(inside.await(TIMEOUT, TimeUnit.SECONDS)).isTrue();
    AtomicBoolean entered = new AtomicBoolean();
    writeOn(order, keys[1], entered).get(TIMEOUT, TimeUnit.SECONDS); // not blocked by the first
    assertThat(entered).isTrue();
    release.countDown();
    first.get(TIMEOUT, TimeUnit.SECONDS);
  }

  @Test
  void withoutTheOptInEveryWriteWaitsForTheOther() throws Exception {
    WriteOrder order = new WriteOrder(false);
    assertSecondWaits(order, b("a"), b("b"));
  }

  @Test
  void aKeyWaitsForItsOwnStripeAndForAll() throws Exception {
    WriteOrder order = new WriteOrder(true);
    assertSecondWaits(order, b("same"), b("same"));
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> all =
        run(
            () ->
                order.all(
                    () -> {
                      inside.countDown();
                      await(release);
                      return null;
                    }));
    assertThat(inside.await(TIMEOUT, TimeUnit.SECONDS)).isTrue();
    AtomicBoolean entered = new AtomicBoolean();
    CompletableFuture<Void> second = writeOn(order, b("anything"), entered);
    Thread.sleep(200); // a chance to enter wrongly; the assertion below never depends on speed
    assertThat(entered).as("a key write while every stripe is held").isFalse();
    release.countDown();
    all.get(TIMEOUT, TimeUnit.SECONDS);
    second.get(TIMEOUT, TimeUnit.SECONDS);
    assertThat(entered).isTrue();
  }

  @Test
  void allWaitsForAWriteInFlightAndKeepsNewOnesOut() throws Exception {
    WriteOrder order = new WriteOrder(true);
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> write =
        run(
            () ->
                order.key(
                    KV,
                    b("in flight"),
                    () -> {
                      inside.countDown();
                      await(release);
                      return null;
                    }));
    assertThat(inside.await(TIMEOUT, TimeUnit.SECONDS)).isTrue();
    AtomicBoolean allRan = new AtomicBoolean();
    CompletableFuture<Void> all =
        run(
            () ->
                order.all(
                    () -> {
                      allRan.set(true);
                      return null;
                    }));
    Thread.sleep(200); // a chance to run wrongly; the assertion below never depends on speed
    assertThat(allRan).as("all() while a key write holds its stripe").isFalse();
    release.countDown();
    write.get(TIMEOUT, TimeUnit.SECONDS);
    all.get(TIMEOUT, TimeUnit.SECONDS);
    assertThat(allRan).isTrue();
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

  private static void assertSecondWaits(WriteOrder order, byte[] k1, byte[] k2) throws Exception {
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> first =
        run(
            () ->
                order.key(
                    KV,
                    k1,
                    () -> {
                      inside.countDown();
                      await(release);
                      return null;
                    }));
    assertThat(inside.await(TIMEOUT, TimeUnit.SECONDS)).isTrue();
    AtomicBoolean entered = new AtomicBoolean();
    CompletableFuture<Void> second = writeOn(order, k2, entered);
    Thread.sleep(200); // a chance to enter wrongly; the assertion below never depends on speed
    assertThat(entered).as("the second write while the first holds the stripe").isFalse();
    release.countDown();
    first.get(TIMEOUT, TimeUnit.SECONDS);
    second.get(TIMEOUT, TimeUnit.SECONDS);
    assertThat(entered).isTrue();
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
