package io.cairn.backend.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link CoalescedCheck}, which shares the data directory's presence check among
 * concurrent writers at {@code durability = full}: a writer is only ever covered by a run that
 * started after it arrived and passed.
 */
class CoalescedCheckTest {

  /** A blocking check: run n waits for {@code release[n]}. */
  private static final class Gate implements Runnable {
    final AtomicInteger runs = new AtomicInteger();
    final CountDownLatch[] started = {new CountDownLatch(1), new CountDownLatch(1)};
    final CountDownLatch[] release = {new CountDownLatch(1), new CountDownLatch(1)};

    @Override
    public void run() {
      int n = runs.getAndIncrement();
      if (n < started.length) {
        started[n].countDown();
        try {
          release[n].await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private static Thread start(Runnable r) {
    Thread t = new Thread(r);
    t.start();
    return t;
  }

  private static void awaitQueued(CoalescedCheck c, int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (c.queued() < n) {
      assertThat(System.nanoTime()).as("%d callers queued", n).isLessThan(deadline);
      Thread.sleep(1);
    }
  }

  /**
   * A writer that arrives while a check is running is not covered by it (the directory may have
   * been deleted after that run looked): it gets a run of its own. Fails if a running or recent run
   * counted for later arrivals.
   */
  @Test
  void aRunThatStartedBeforeTheCallNeverCoversIt() throws Exception {
    Gate gate = new Gate();
    CoalescedCheck check = new CoalescedCheck(gate);
    Thread first = start(check::await);
    assertThat(gate.started[0].await(60, TimeUnit.SECONDS)).isTrue();
    Thread late = start(check::await);
    awaitQueued(check, 1);
    gate.release[0].countDown();
    assertThat(gate.started[1].await(60, TimeUnit.SECONDS))
        .as("the late caller's own run")
        .isTrue();
    gate.release[1].countDown();
    first.join(60_000);
    late.join(60_000);
    assertThat(gate.runs).hasValue(2);
  }

  /** Writers that queue during one run share the next one: three callers, one more run. */
  @Test
  void callersQueuedDuringARunShareTheNextRun() throws Exception {
    Gate gate = new Gate();
    CoalescedCheck check = new CoalescedCheck(gate);
    Thread first = start(check::await);
    assertThat(gate.started[0].await(60, TimeUnit.SECONDS)).isTrue();
    List<Thread> queued = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      queued.add(start(check::await));
    }
    awaitQueued(check, 3);
    gate.release[0].countDown();
    gate.release[1].countDown();
    first.join(60_000);
    for (Thread t : queued) {
      t.join(60_000);
      assertThat(t.isAlive()).isFalse();
    }
    assertThat(gate.runs).hasValue(2);
  }

  /** A failing run covers no one: every caller runs the check and gets its error. */
  @Test
  void aFailingRunIsSharedWithNoOne() {
    AtomicInteger runs = new AtomicInteger();
    boolean[] fail = {true};
    CoalescedCheck check =
        new CoalescedCheck(
            () -> {
              runs.incrementAndGet();
              if (fail[0]) {
                throw new IllegalStateException("directory gone");
              }
            });
    assertThatThrownBy(check::await).hasMessage("directory gone");
    assertThatThrownBy(check::await).hasMessage("directory gone");
    fail[0] = false;
    check.await();
    assertThat(runs).hasValue(3);
  }
}
