package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The fill worker's hand-off: fills run on the worker, whether it is polling, asleep or ended; a
 * full queue hands the fill to the overflow handler on the reader's thread; close drops what waits.
 */
class UpwardFillsTest {

  /**
   * After {@value UpwardFills#POLLS} empty polls the worker sleeps until woken: a fill submitted
   * then must wake it (without the wake it would wait the whole idle time, here 30 s).
   */
  @Test
  void aFillSubmittedWhileTheWorkerSleepsRunsPromptly() throws Exception {
    UpwardFills<Runnable> fills = runnables(30_000);
    try {
      AtomicInteger ran = new AtomicInteger();
      fills.submit(ran::incrementAndGet);
      assertThat(fills.awaitIdle(5_000)).isTrue();
      // past the timed polls (200 x 0.5 ms, more under load): the worker is in its long sleep
      Thread.sleep(1_000);
      assertThat(workerAlive()).as("the worker waits for fills for the idle time").isTrue();
      long start = System.nanoTime();
      fills.submit(ran::incrementAndGet);
      assertThat(fills.awaitIdle(5_000)).as("the sleeping worker was woken").isTrue();
      assertThat(ran.get()).isEqualTo(2);
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
    } finally {
      fills.close();
    }
  }

  /** The worker ends after the idle time; the next fill starts a new one. */
  @Test
  void anEndedWorkerIsStartedAgainByTheNextFill() throws Exception {
    UpwardFills<Runnable> fills = runnables(300);
    try {
      AtomicReference<String> thread = new AtomicReference<>();
      fills.submit(() -> thread.set(Thread.currentThread().getName()));
      assertThat(fills.awaitIdle(5_000)).isTrue();
      assertThat(thread.get()).isEqualTo("cairn-cache-fill-t");
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (workerAlive() && System.nanoTime() < end) {
        Thread.sleep(20);
      }
      assertThat(workerAlive()).as("the worker ended after its idle time").isFalse();
      thread.set(null);
      fills.submit(() -> thread.set(Thread.currentThread().getName()));
      assertThat(fills.awaitIdle(5_000)).as("a new worker ran the fill").isTrue();
      assertThat(thread.get()).isEqualTo("cairn-cache-fill-t");
    } finally {
      fills.close();
    }
  }

  /**
   * With {@value UpwardFills#QUEUE} fills waiting, the next goes to the overflow handler, on the
   * submitting thread (not to the runner).
   */
  @Test
  void aFullQueueMakesTheReaderFill() throws Exception {
    UpwardFills<Runnable> fills = runnables(30_000);
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try {
      fills.submit(
          () -> {
            running.countDown();
            await(release);
          });
      assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
      AtomicInteger ran = new AtomicInteger();
      for (int i = 1; i < UpwardFills.QUEUE; i++) {
        fills.submit(ran::incrementAndGet);
      }
      assertThat(ran.get()).as("queued, not run").isZero();
      AtomicReference<Thread> filler = new AtomicReference<>();
      fills.submit(() -> filler.set(Thread.currentThread()));
      assertThat(filler.get()).as("run by the submitting thread").isSameAs(Thread.currentThread());
      assertThat(overflowed).hasValue(1);
      release.countDown();
      assertThat(fills.awaitIdle(10_000)).isTrue();
      assertThat(ran.get()).isEqualTo(UpwardFills.QUEUE - 1);
    } finally {
      release.countDown();
      fills.close();
    }
  }

  /** Close drops waiting fills, waits for the running one, and ignores later ones. */
  @Test
  void closeDropsWaitingFillsAndEndsTheWorker() throws Exception {
    UpwardFills<Runnable> fills = runnables(30_000);
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger ran = new AtomicInteger();
    fills.submit(
        () -> {
          running.countDown();
          await(release);
        });
    assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
    fills.submit(ran::incrementAndGet);
    Thread closer = new Thread(fills::close);
    closer.start();
    Thread.sleep(100);
    release.countDown();
    closer.join(15_000);
    assertThat(closer.isAlive()).isFalse();
    assertThat(workerAlive()).isFalse();
    fills.submit(ran::incrementAndGet);
    assertThat(ran.get()).as("waiting and later fills dropped").isZero();
    assertThat(fills.awaitIdle(100)).isTrue();
  }

  /**
   * Fills submitted while the worker is busy are handed to the runner together, at most {@value
   * UpwardFills#BATCH} at a time, in submission order.
   */
  @Test
  void fillsWaitingWhileTheWorkerIsBusyRunAsOneBatch() throws Exception {
    List<List<Integer>> batches = new CopyOnWriteArrayList<>();
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    UpwardFills<Integer> fills =
        new UpwardFills<>(
            "t",
            30_000,
            b -> {
              batches.add(List.copyOf(b));
              if (b.contains(-1)) {
                running.countDown();
                await(release);
              }
            },
            f -> {
              throw new AssertionError("no overflow expected: " + f);
            });
    try {
      fills.submit(-1);
      assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
      int n = UpwardFills.BATCH + 10;
      for (int i = 0; i < n; i++) {
        fills.submit(i);
      }
      release.countDown();
      assertThat(fills.awaitIdle(10_000)).isTrue();
      assertThat(batches).hasSize(3);
      assertThat(batches.get(1)).hasSize(UpwardFills.BATCH).startsWith(0, 1, 2);
      assertThat(batches.get(2)).hasSize(10).endsWith(n - 1);
      assertThat(fills.largestBatch()).isEqualTo(UpwardFills.BATCH);
    } finally {
      release.countDown();
      fills.close();
    }
  }

  private final AtomicInteger overflowed = new AtomicInteger();

  /**
   * A worker whose runner runs each fill (a {@link Runnable}) in turn; the overflow handler runs it
   * too and counts it.
   */
  private UpwardFills<Runnable> runnables(long idleMillis) {
    return new UpwardFills<>(
        "t",
        idleMillis,
        b -> b.forEach(Runnable::run),
        f -> {
          overflowed.incrementAndGet();
          f.run();
        });
  }

  private static boolean workerAlive() {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals("cairn-cache-fill-t") && t.isAlive());
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new AssertionError("not released in 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
