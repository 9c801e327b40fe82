package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ExpirySweeperTest {
  @Test
  void aFailedRunIsRetriedAndCloseStopsTheThread() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch thirdRun = new CountDownLatch(3);
    ExpirySweeper sweeper =
        ExpirySweeper.start(
            "cairn-test-sweeper-main",
            "test backend 'main'",
            Duration.ofMillis(5),
            () -> {
              runs.incrementAndGet();
              thirdRun.countDown();
              if (runs.get() == 1) {
                throw new IllegalStateException("server gone");
              }
              return 1;
            },
            () -> false);
    try {
      assertThat(sweeper.running()).isTrue();
      assertThat(thirdRun.await(60, TimeUnit.SECONDS))
          .as("the sweeper keeps running after a failed run")
          .isTrue();
      assertThat(
              Thread.getAllStackTraces().keySet().stream()
                  .filter(t -> t.getName().equals("cairn-test-sweeper-main"))
                  .allMatch(Thread::isDaemon))
          .isTrue();
    } finally {
      sweeper.close();
    }
    int after = runs.get();
    Thread.sleep(50);
    assertThat(runs.get()).as("no run after close").isEqualTo(after);
    sweeper.close(); // idempotent
  }

  @Test
  void zeroIntervalStartsNoThread() {
    ExpirySweeper off = ExpirySweeper.start("t", "d", Duration.ZERO, () -> 0, () -> false);
    assertThat(off.running()).isFalse();
    off.close();
    assertThatThrownBy(
            () -> ExpirySweeper.start("t", "d", Duration.ofSeconds(-1), () -> 0, () -> false))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void sweepOnceNeverThrowsARuntimeException() {
    ExpirySweeper s =
        ExpirySweeper.start(
            "t",
            "d",
            Duration.ZERO,
            () -> {
              throw new IllegalStateException("closed");
            },
            () -> true);
    s.sweepOnce(); // logged (not even as a warning: closing), not thrown
  }
}
