package io.cairn.persistence;

import com.codahale.metrics.Clock;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.LockFreeExponentiallyDecayingReservoir;
import com.codahale.metrics.Meter;
import com.codahale.metrics.Timer;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The registry's timer around one kind of store call, cheap enough to wrap every get and put: it
 * counts every call and reads the exact clock for a sample of them. Each clock read costs about 45
 * ns on a virtual machine and the timer's bookkeeping as much again, together 4-5% of a RocksDB or
 * SQLite get at 4 and 8 threads (async-profiler; benchmarks/RESULTS-base-hot.md, "Registry
 * timers"); a call that is not timed costs a random draw and a count.
 *
 * <p><b>What is exact, what is sampled.</b> {@link #getCount()} and the rates count every call that
 * {@link #stop} ended (and every {@link #update}). The durations behind {@link #getSnapshot()} are
 * those of the timed calls: a call is timed if no call was timed in the current {@link CoarseClock}
 * tick (1 ms) or if the calling thread's random draw picks it, one in {@value #ONE_IN}. The draw
 * does not depend on the call or its duration, so the percentiles estimate the same distribution,
 * from fewer samples only where calls arrive faster than one a millisecond (the decaying reservoir
 * keeps 1,028 anyway); a store used rarely has every call timed. The inherited {@link #time()},
 * {@link #time(java.util.concurrent.Callable)} and {@link #update} time or record every call.
 *
 * <p>The meter's one-, five- and fifteen-minute rates are fed from its count once per 5-second
 * interval ({@link CountDrivenRates}), not from every call: the same rates, without three more
 * atomic additions per call.
 *
 * <p>Thread-safe. The tick of the last timed call is one racy field: a lost race times one call
 * more or less. The meter and the reservoir's decay run on the coarse clock (seconds); durations on
 * the exact one.
 */
final class CallTimer extends Timer {
  /** One call in this many is timed (besides the first of each tick); a power of two. */
  static final int ONE_IN = 8;

  /** What {@link #start} returns for a call that is not timed. */
  static final long UNTIMED = Long.MIN_VALUE;

  private final Meter calls;
  private final Clock tick;
  private volatile long lastTimedTick = Long.MIN_VALUE;

  private CallTimer(Meter calls, Histogram durations, Clock tick) {
    super(calls, durations, Clock.defaultClock());
    this.calls = calls;
    this.tick = tick;
  }

  /**
   * A timer whose meter, reservoir decay and sampling ticks run on {@code coarse}, a clock whose
   * tick changes at most about once a millisecond (the {@link CoarseClock}'s).
   */
  static CallTimer create(Clock coarse) {
    return new CallTimer(
        CountDrivenRates.meter(coarse),
        new Histogram(LockFreeExponentiallyDecayingReservoir.builder().clock(coarse).build()),
        coarse);
  }

  /**
   * The start of a call, to be passed to {@link #stop} when it ends (in a {@code finally}): the
   * exact clock if this call is timed, else {@link #UNTIMED}.
   */
  long start() {
    long now = tick.getTick();
    if (now != lastTimedTick || (ThreadLocalRandom.current().nextInt() & (ONE_IN - 1)) == 0) {
      if (now != lastTimedTick) {
        lastTimedTick = now;
      }
      long started = System.nanoTime();
      return started == UNTIMED ? UNTIMED + 1 : started;
    }
    return UNTIMED;
  }

  /** Ends a call {@link #start} began: counts it, and records its duration if it was timed. */
  void stop(long started) {
    if (started == UNTIMED) {
      calls.mark();
    } else {
      update(System.nanoTime() - started, TimeUnit.NANOSECONDS);
    }
  }

  /** Every call ended, timed or not (the histogram holds only the timed ones). */
  @Override
  public long getCount() {
    return calls.getCount();
  }
}
