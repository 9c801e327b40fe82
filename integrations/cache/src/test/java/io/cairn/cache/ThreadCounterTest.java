package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** {@link ThreadCounter} counts exactly: concurrent threads, slot collisions, dead threads. */
class ThreadCounterTest {

  @Test
  void concurrentIncrementsAreAllCounted() throws InterruptedException {
    ThreadCounter counter = new ThreadCounter();
    int threads = 8;
    int each = 200_000;
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> ts = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      Thread t =
          new Thread(
              () -> {
                awaitQuietly(start);
                for (int n = 0; n < each; n++) {
                  counter.increment();
                }
              });
      t.start();
      ts.add(t);
    }
    start.countDown();
    long last = 0;
    for (Thread t : ts) {
      long now = counter.sum();
      assertThat(now).as("sums read by one thread never decrease").isGreaterThanOrEqualTo(last);
      last = now;
      t.join();
    }
    assertThat(counter.sum()).isEqualTo((long) threads * each);
  }

  @Test
  void moreLiveThreadsThanSlotsAndDeadThreadsLoseNothing() throws InterruptedException {
    ThreadCounter counter = new ThreadCounter();
    int alive = ThreadCounter.SLOTS + 40; // some share a slot with a live thread: shared adder
    CountDownLatch counted = new CountDownLatch(alive);
    CountDownLatch release = new CountDownLatch(1);
    List<Thread> ts = new ArrayList<>();
    for (int i = 0; i < alive; i++) {
      Thread t =
          new Thread(
              () -> {
                for (int n = 0; n < 1000; n++) {
                  counter.increment();
                }
                counted.countDown();
                awaitQuietly(release); // all alive at once
                counter.increment();
              });
      t.start();
      ts.add(t);
    }
    counted.await();
    assertThat(counter.sum()).isEqualTo(alive * 1000L);
    release.countDown();
    for (Thread t : ts) {
      t.join();
    }
    assertThat(counter.sum()).isEqualTo(alive * 1001L);
    // a second generation takes over the dead threads' slots; their counts are kept
    List<Thread> next = new ArrayList<>();
    for (int i = 0; i < ThreadCounter.SLOTS * 2; i++) {
      Thread t =
          new Thread(
              () -> {
                for (int n = 0; n < 10; n++) {
                  counter.increment();
                }
              });
      t.start();
      t.join(); // one at a time: each finds its slot held by a dead thread or free
      next.add(t);
    }
    assertThat(counter.sum()).isEqualTo(alive * 1001L + ThreadCounter.SLOTS * 2 * 10L);
    assertThat(counter.cellsInUse()).isLessThanOrEqualTo(ThreadCounter.SLOTS);
  }

  @Test
  void aThreadCountingAgainAfterOthersIsStillExact() throws InterruptedException {
    ThreadCounter counter = new ThreadCounter();
    for (int round = 0; round < 3 * ThreadCounter.MAX_SWITCHES; round++) {
      counter.increment(); // this thread
      Thread other = new Thread(counter::increment);
      other.start();
      other.join();
    }
    assertThat(counter.sum()).isEqualTo(6L * ThreadCounter.MAX_SWITCHES);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
