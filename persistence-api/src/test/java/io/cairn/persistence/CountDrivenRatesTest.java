package io.cairn.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.codahale.metrics.Meter;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class CountDrivenRatesTest {
  private final TickClock clock = new TickClock(TimeUnit.HOURS.toNanos(1));

  @Test
  void ratesEqualDropwizardsDefaultTickByTick() {
    Meter reference = new Meter(clock); // ExponentialMovingAverages: every mark to every average
    Meter fromCount = CountDrivenRates.meter(clock);
    Random random = new Random(7);
    for (int step = 0; step < 400; step++) {
      int marks = random.nextInt(50);
      for (int i = 0; i < marks; i++) {
        long n = 1 + random.nextInt(3);
        reference.mark(n);
        fromCount.mark(n);
      }
      // mostly within an interval, sometimes past one or several (an idle meter)
      long advance =
          random.nextInt(10) == 0
              ? TimeUnit.SECONDS.toNanos(5 + random.nextInt(60))
              : TimeUnit.MILLISECONDS.toNanos(random.nextInt(3_000));
      clock.advance(advance);
      assertThat(fromCount.getCount()).isEqualTo(reference.getCount());
      assertThat(fromCount.getOneMinuteRate())
          .isCloseTo(reference.getOneMinuteRate(), within(1e-9));
      assertThat(fromCount.getFiveMinuteRate())
          .isCloseTo(reference.getFiveMinuteRate(), within(1e-9));
      assertThat(fromCount.getFifteenMinuteRate())
          .isCloseTo(reference.getFifteenMinuteRate(), within(1e-9));
    }
    assertThat(reference.getOneMinuteRate()).as("the comparison saw real rates").isGreaterThan(0);
  }

  @Test
  void aCallTimersRatesFollowItsCalls() {
    CallTimer timer = CallTimer.create(clock);
    for (int second = 0; second < 120; second++) {
      for (int i = 0; i < 100; i++) {
        timer.stop(timer.start());
      }
      clock.advance(TimeUnit.SECONDS.toNanos(1));
    }
    // 100 calls a second for two minutes: the one-minute rate has nearly converged
    assertThat(timer.getOneMinuteRate()).isCloseTo(100, within(15.0));
    assertThat(timer.getCount()).isEqualTo(12_000);
  }
}
