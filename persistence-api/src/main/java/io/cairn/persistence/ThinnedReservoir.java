package io.cairn.persistence;

import com.codahale.metrics.Reservoir;
import com.codahale.metrics.Snapshot;
import io.cairn.persistence.spi.CoarseClock;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A reservoir that, when durations arrive faster than one per {@link CoarseClock} tick (1 ms),
 * passes on a random one in {@value #ONE_IN} of them, so a timer wrapped around every store
 * operation costs little under load: updating the lock-free decaying reservoir (a skip-list insert
 * for most values) was about 10% of a RocksDB put's CPU, a third of all the registry adds to a put
 * (async-profiler, {@code RocksDbPutCpuCost}).
 *
 * <p>What it keeps: the {@link com.codahale.metrics.Histogram}'s count and the timer's rates count
 * every operation (the histogram counts before it calls this). A duration is passed on if none was
 * in the current clock tick or if the calling thread's random draw picks it; the draw does not
 * depend on the value, so the percentiles estimate the same distribution, from fewer samples only
 * where there are more than a thousand a second (the decaying reservoir keeps 1,028 anyway). A
 * store used rarely sees every duration. Thread-safe: the draw uses the calling thread's own random
 * generator; the tick of the last passed duration is one racy field (a lost race only passes one
 * duration more or less).
 */
final class ThinnedReservoir implements Reservoir {
  /** One duration in this many reaches the reservoir; a power of two. */
  static final int ONE_IN = 8;

  private final Reservoir sampled;
  private final com.codahale.metrics.Clock tick;
  private volatile long lastPassedTick = Long.MIN_VALUE;

  /**
   * @param tick a cheap clock whose tick changes at most about once a millisecond (the coarse one)
   */
  ThinnedReservoir(Reservoir sampled, com.codahale.metrics.Clock tick) {
    this.sampled = sampled;
    this.tick = tick;
  }

  @Override
  public int size() {
    return sampled.size();
  }

  @Override
  public void update(long value) {
    long now = tick.getTick();
    if (now != lastPassedTick || (ThreadLocalRandom.current().nextInt() & (ONE_IN - 1)) == 0) {
      if (now != lastPassedTick) {
        lastPassedTick = now;
      }
      sampled.update(value);
    }
  }

  @Override
  public Snapshot getSnapshot() {
    return sampled.getSnapshot();
  }
}
