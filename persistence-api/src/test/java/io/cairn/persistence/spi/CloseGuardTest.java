package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link CloseGuard}: close waits for calls in flight, refuses later ones, releases once. */
class CloseGuardTest {
  @Test
  void closeWaitsForTheCallInFlightThenRefusesEveryCall() throws Exception {
    CloseGuard guard = new CloseGuard();
    int outer = guard.enter();
    int nested = guard.enter(); // calls nest on one thread
    assertThat(outer).isNotNegative();
    assertThat(nested).isEqualTo(outer);
    AtomicBoolean released = new AtomicBoolean();
    ExecutorService closer = Executors.newSingleThreadExecutor();
    try {
      Future<Boolean> closing = closer.submit(() -> guard.close(() -> released.set(true)));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!guard.isClosed() && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(guard.isClosed()).as("close has started").isTrue();
      assertThat(guard.enter()).as("a call after close started").isEqualTo(-1);
      TimeUnit.MILLISECONDS.sleep(50);
      assertThat(released).as("released while two calls are in flight").isFalse();
      guard.exit(nested);
      TimeUnit.MILLISECONDS.sleep(50);
      assertThat(released).as("released while one call is in flight").isFalse();
      guard.exit(outer);
      assertThat(closing.get(10, TimeUnit.SECONDS)).isTrue();
      assertThat(released).isTrue();
      assertThat(guard.enter()).isEqualTo(-1);
      AtomicInteger again = new AtomicInteger();
      assertThat(guard.close(again::incrementAndGet)).as("a second close").isFalse();
      assertThat(again).hasValue(0);
    } finally {
      closer.shutdownNow();
    }
  }

  /**
   * Threads enter and exit as fast as they can while another closes: no call may be inside once the
   * release runs (each call checks the released flag before it exits), and every call either ran or
   * was refused.
   */
  @Test
  void noCallRunsAfterTheRelease() throws Exception {
    for (int attempt = 0; attempt < 20; attempt++) {
      CloseGuard guard = new CloseGuard();
      AtomicBoolean released = new AtomicBoolean();
      AtomicLong inside = new AtomicLong();
      AtomicLong violations = new AtomicLong();
      int threads = 4;
      CountDownLatch running = new CountDownLatch(threads);
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<Long>> calls = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          calls.add(
              pool.submit(
                  () -> {
                    long ran = 0;
                    running.countDown();
                    while (true) {
                      int cell = guard.enter();
                      if (cell < 0) {
                        return ran;
                      }
                      try {
                        inside.incrementAndGet();
                        if (released.get()) {
                          violations.incrementAndGet();
                        }
                        ran++;
                        inside.decrementAndGet();
                      } finally {
                        guard.exit(cell);
                      }
                    }
                  }));
        }
        running.await();
        assertThat(
                guard.close(
                    () -> {
                      if (inside.get() != 0) {
                        violations.incrementAndGet();
                      }
                      released.set(true);
                    }))
            .isTrue();
        long ran = 0;
        for (Future<Long> f : calls) {
          ran += f.get(30, TimeUnit.SECONDS);
        }
        assertThat(ran).isPositive();
        assertThat(violations).as("calls inside after the release").hasValue(0);
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
