package io.cairn.persistence;

import com.codahale.metrics.Clock;
import com.codahale.metrics.EWMA;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MovingAverages;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one-, five- and fifteen-minute rates of a {@link Meter}, fed from the meter's count once per
 * 5-second interval instead of from every mark.
 *
 * <p><b>Why.</b> Dropwizard's default, {@code ExponentialMovingAverages}, adds every mark to each
 * of its three {@link EWMA}s: three {@code LongAdder} additions per call on top of the meter's own
 * count. On the registry's timers that wrap every get and put they were about 30 ns per call, 1-2 %
 * of a RocksDB get (async-profiler, benchmarks/RESULTS-rocksdb.md, 2026-12-08). Here {@link
 * #update} does nothing; when an interval has passed, the count's growth since the last one is
 * added to the three averages at once, before they tick. An EWMA only ever uses the sum of the
 * updates within an interval, so the rates are the same as the default's (CountDrivenRatesTest
 * compares them tick by tick).
 *
 * <p>Thread-safe, as the default: one caller wins the interval's compare-and-set and ticks; two
 * winners of consecutive intervals that overlap split the count between them, never count it twice.
 */
final class CountDrivenRates implements MovingAverages {
  private static final long TICK_INTERVAL = TimeUnit.SECONDS.toNanos(5);

  private final EWMA m1 = EWMA.oneMinuteEWMA();
  private final EWMA m5 = EWMA.fiveMinuteEWMA();
  private final EWMA m15 = EWMA.fifteenMinuteEWMA();
  private final Clock clock;
  private final AtomicLong lastTick;
  private final AtomicLong lastCount = new AtomicLong();
  private volatile Meter meter;

  private CountDrivenRates(Clock clock) {
    this.clock = clock;
    this.lastTick = new AtomicLong(clock.getTick());
  }

  /** A meter on {@code clock} whose rates are this class's. */
  static Meter meter(Clock clock) {
    CountDrivenRates rates = new CountDrivenRates(clock);
    Meter m = new Meter(rates, clock);
    rates.meter = m;
    return m;
  }

  @Override
  public void update(long n) {
    // nothing: the count the meter keeps is read at the next tick
  }

  @Override
  public void tickIfNecessary() {
    long oldTick = lastTick.get();
    long newTick = clock.getTick();
    long age = newTick - oldTick;
    if (age > TICK_INTERVAL && lastTick.compareAndSet(oldTick, newTick - age % TICK_INTERVAL)) {
      long count = meter.getCount();
      long added = count - lastCount.getAndSet(count);
      m1.update(added);
      m5.update(added);
      m15.update(added);
      for (long i = age / TICK_INTERVAL; i > 0; i--) {
        m1.tick();
        m5.tick();
        m15.tick();
      }
    }
  }

  @Override
  public double getM1Rate() {
    return m1.getRate(TimeUnit.SECONDS);
  }

  @Override
  public double getM5Rate() {
    return m5.getRate(TimeUnit.SECONDS);
  }

  @Override
  public double getM15Rate() {
    return m15.getRate(TimeUnit.SECONDS);
  }
}
