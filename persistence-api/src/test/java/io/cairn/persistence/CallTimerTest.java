package io.cairn.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CallTimerTest {
  private final TickClock clock = new TickClock(0);

  @Test
  void theFirstCallOfEveryTickIsTimed() {
    CallTimer timer = CallTimer.create(clock);
    for (int i = 0; i < 1_000; i++) {
      clock.advance(1);
      long started = timer.start();
      assertThat(started).isNotEqualTo(CallTimer.UNTIMED);
      timer.stop(started);
    }
    assertThat(timer.getCount()).isEqualTo(1_000);
  }

  @Test
  void callsWithinOneTickAreTimedAboutOneInEightAndAllCounted() {
    CallTimer timer = CallTimer.create(clock);
    int timed = 0;
    for (int i = 0; i < 80_000; i++) {
      long started = timer.start();
      if (started != CallTimer.UNTIMED) {
        timed++;
      }
      timer.stop(started);
    }
    // 1 for the tick's first call + Binomial(79,999, 1/8): mean 10,000, sd about 94
    assertThat(timed).isBetween(9_400, 10_600);
    assertThat(timer.getCount()).isEqualTo(80_000);
  }

  @Test
  void aTimedCallRecordsItsDurationAndAnUntimedOneOnlyItsCount() throws InterruptedException {
    CallTimer timer = CallTimer.create(clock);
    long started = timer.start(); // the tick's first call: timed
    Thread.sleep(3);
    timer.stop(started);
    timer.stop(CallTimer.UNTIMED);
    assertThat(timer.getCount()).isEqualTo(2);
    assertThat(timer.getSnapshot().size()).isEqualTo(1);
    assertThat(timer.getSnapshot().getMax())
        .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(3));
    assertThat(timer.getMeanRate()).isPositive();
  }

  @Test
  void anUpdateFromOutsideIsCountedAndRecorded() {
    CallTimer timer = CallTimer.create(clock);
    timer.update(5, TimeUnit.MILLISECONDS);
    assertThat(timer.getCount()).isEqualTo(1);
    assertThat(timer.getSnapshot().getValues()).containsExactly(TimeUnit.MILLISECONDS.toNanos(5));
  }
}
