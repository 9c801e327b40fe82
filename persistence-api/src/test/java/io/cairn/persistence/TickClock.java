package io.cairn.persistence;

import com.codahale.metrics.Clock;
import java.util.concurrent.atomic.AtomicLong;

/** A Dropwizard {@link Clock} whose tick only moves when a test says so. Thread-safe. */
final class TickClock extends Clock {
  private final AtomicLong tick;

  TickClock(long start) {
    this.tick = new AtomicLong(start);
  }

  /** Moves the tick forward by {@code nanos}. */
  void advance(long nanos) {
    tick.addAndGet(nanos);
  }

  @Override
  public long getTick() {
    return tick.get();
  }
}
