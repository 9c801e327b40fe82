package io.cairn.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.Clock;
import com.codahale.metrics.UniformReservoir;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ThinnedReservoirTest {
  private final AtomicLong tick = new AtomicLong();
  private final Clock clock =
      new Clock() {
        @Override
        public long getTick() {
          return tick.get();
        }
      };

  @Test
  void aDurationInANewTickIsAlwaysKept() {
    UniformReservoir sampled = new UniformReservoir(10_000);
    ThinnedReservoir r = new ThinnedReservoir(sampled, clock);
    for (int i = 0; i < 1_000; i++) {
      tick.incrementAndGet();
      r.update(i);
    }
    assertThat(sampled.size()).isEqualTo(1_000);
  }

  @Test
  void durationsWithinOneTickAreThinnedToAboutOneInEight() {
    UniformReservoir sampled = new UniformReservoir(100_000);
    ThinnedReservoir r = new ThinnedReservoir(sampled, clock);
    for (int i = 0; i < 80_000; i++) {
      r.update(i);
    }
    // 1 for the tick's first duration + Binomial(79,999, 1/8): mean 10,000, sd about 94
    assertThat(sampled.size()).isBetween(9_400, 10_600);
    assertThat(r.size()).isEqualTo(sampled.size());
    assertThat(r.getSnapshot().getMax()).isGreaterThan(70_000);
  }
}
