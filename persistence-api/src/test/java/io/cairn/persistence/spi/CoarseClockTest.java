package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The shared coarse clock: bounded lag, never ahead, and a refresher that dies with its users. */
class CoarseClockTest {

  @AfterEach
  void noRefresherLeftBehind() {
    assertThat(CoarseClock.running()).as("refresher stopped after the last release").isFalse();
    assertThat(refresherThreadAlive()).isFalse();
  }

  @Test
  void neverAheadOfTheSystemClocksAndKeepsUp() throws InterruptedException {
    CoarseClock c = CoarseClock.acquire();
    try {
      long firstMillis = c.millis();
      long firstNanos = c.nanos();
      for (int i = 0; i < 1_000; i++) {
        long ms = c.millis();
        long ns = c.nanos();
        assertThat(ms).isLessThanOrEqualTo(System.currentTimeMillis());
        assertThat(ns - System.nanoTime()).isLessThanOrEqualTo(0);
        assertThat(ms).as("monotone reads").isGreaterThanOrEqualTo(firstMillis);
        assertThat(ns - firstNanos).isGreaterThanOrEqualTo(0);
      }
      assertThat(c.metricsClock().getTick()).isLessThanOrEqualTo(System.nanoTime());
      long target = System.currentTimeMillis() + 50;
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (c.millis() < target && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      assertThat(c.millis()).as("the refresher advances the clock").isGreaterThanOrEqualTo(target);
      assertThat(c.nanos() - firstNanos).isGreaterThanOrEqualTo(50_000_000L);
    } finally {
      c.release();
    }
  }

  @Test
  void oneRefresherSharedByReferenceCount() {
    CoarseClock a = CoarseClock.acquire();
    CoarseClock b = CoarseClock.acquire();
    assertThat(b).isSameAs(a);
    a.release();
    assertThat(CoarseClock.running()).as("one user left").isTrue();
    assertThat(refresherThreadAlive()).isTrue();
    b.release();
    assertThatThrownBy(b::release).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void mirrorsOnlyTheSystemClock() {
    assertThat(CoarseClock.mirrors(Clock.systemUTC())).isTrue();
    assertThat(CoarseClock.mirrors(Clock.system(ZoneId.of("Europe/Paris")))).isTrue();
    assertThat(CoarseClock.mirrors(Clock.fixed(Instant.EPOCH, ZoneOffset.UTC))).isFalse();
  }

  static boolean refresherThreadAlive() {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.getName().equals(CoarseClock.THREAD_NAME) && t.isAlive());
  }
}
