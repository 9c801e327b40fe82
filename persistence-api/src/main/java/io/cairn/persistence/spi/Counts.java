package io.cairn.persistence.spi;

import com.codahale.metrics.Counter;
import com.codahale.metrics.MetricRegistry;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Publishes a count a component already keeps (a {@link java.util.concurrent.atomic.LongAdder}, an
 * engine statistic) as a Dropwizard {@link Counter}, not a {@link com.codahale.metrics.Gauge}: a
 * count of events (hits, misses, evictions, errors, loads) is a Counter to reporters, which then
 * compute rates and deltas from it; a Gauge is for levels (sizes, depths, ages). The counter is a
 * read-only view: {@link Counter#getCount()} reads the source, {@code inc}/{@code dec} throw {@link
 * UnsupportedOperationException} (only the owner changes the count).
 */
public final class Counts {
  private Counts() {}

  /** A read-only Counter over {@code source}. */
  public static Counter view(LongSupplier source) {
    return new View(Objects.requireNonNull(source, "source"));
  }

  /**
   * Registers {@link #view(LongSupplier) a view} of {@code source} as {@code name}, replacing any
   * metric of that name (a reopened component replaces its predecessor's).
   */
  public static Counter register(MetricRegistry metrics, String name, LongSupplier source) {
    Counter c = view(source);
    metrics.remove(name);
    return metrics.register(name, c);
  }

  private static final class View extends Counter {
    private final LongSupplier source;

    View(LongSupplier source) {
      this.source = source;
    }

    @Override
    public long getCount() {
      return source.getAsLong();
    }

    @Override
    public void inc(long n) {
      throw new UnsupportedOperationException(
          "a count published by Cairn is read-only; it changes with the component that keeps it");
    }

    @Override
    public void dec(long n) {
      inc(n);
    }
  }
}
