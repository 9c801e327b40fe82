package io.cairn.micrometer;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.Metric;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.MetricRegistryListener;
import com.codahale.metrics.Timer;
import com.codahale.metrics.health.HealthCheck;
import com.codahale.metrics.health.HealthCheckRegistry;
import com.codahale.metrics.health.HealthCheckRegistryListener;
import io.cairn.persistence.PersistenceRegistry;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Publishes Cairn's Dropwizard metrics and health checks to a Micrometer {@link MeterRegistry} (the
 * facade Spring Boot and most services use), so a service needs no bridge of its own.
 *
 * <p>Mapping, under the Dropwizard name (Micrometer's naming convention then renders it for the
 * monitoring system):
 *
 * <ul>
 *   <li>Counter and Meter: a {@link FunctionCounter} of the count.
 *   <li>Timer: a {@link FunctionTimer} (count, and total time estimated as the reservoir's mean
 *       times the count — Dropwizard keeps no exact total) plus {@code <name>.percentile} time
 *       gauges tagged {@code quantile} 0.5, 0.99 and 0.999.
 *   <li>Histogram: a {@link FunctionCounter} {@code <name>.count} plus {@code <name>.percentile}
 *       gauges tagged {@code quantile}.
 *   <li>Gauge of a number: a gauge; gauges of other types are skipped.
 *   <li>Health check: a gauge {@code cairn.health} tagged {@code check=<name>}, 1 when healthy and
 *       0 otherwise, run when the gauge is read (Cairn's checks are quick and non-blocking).
 * </ul>
 *
 * <p>Metrics and checks added to the registries later (a store used for the first time, a queue
 * opened) are bound as they appear, and removed as they go. Thread-safe. {@link #close()} stops
 * following the registries and removes every meter this binder added.
 */
public final class CairnMeterBinder implements MeterBinder, AutoCloseable {
  private static final double[] QUANTILES = {0.5, 0.99, 0.999};

  private final MetricRegistry metrics;
  private final HealthCheckRegistry health;
  private final Map<String, List<io.micrometer.core.instrument.Meter>> bound =
      new ConcurrentHashMap<>();
  private final List<Runnable> detach = new ArrayList<>();

  public CairnMeterBinder(MetricRegistry metrics, HealthCheckRegistry health) {
    this.metrics = metrics;
    this.health = health;
  }

  /** A binder over the metrics and health checks of {@code registry}. */
  public static CairnMeterBinder of(PersistenceRegistry registry) {
    return new CairnMeterBinder(registry.metrics(), registry.healthChecks());
  }

  @Override
  public synchronized void bindTo(MeterRegistry meters) {
    MetricRegistryListener metricListener =
        new MetricRegistryListener.Base() {
          @Override
          public void onGaugeAdded(String name, Gauge<?> gauge) {
            add(meters, name, gauge);
          }

          @Override
          public void onGaugeRemoved(String name) {
            remove(meters, name);
          }

          @Override
          public void onCounterAdded(String name, Counter counter) {
            add(meters, name, counter);
          }

          @Override
          public void onCounterRemoved(String name) {
            remove(meters, name);
          }

          @Override
          public void onHistogramAdded(String name, Histogram histogram) {
            add(meters, name, histogram);
          }

          @Override
          public void onHistogramRemoved(String name) {
            remove(meters, name);
          }

          @Override
          public void onMeterAdded(String name, Meter meter) {
            add(meters, name, meter);
          }

          @Override
          public void onMeterRemoved(String name) {
            remove(meters, name);
          }

          @Override
          public void onTimerAdded(String name, Timer timer) {
            add(meters, name, timer);
          }

          @Override
          public void onTimerRemoved(String name) {
            remove(meters, name);
          }
        };
    // addListener replays every existing metric to the listener first.
    metrics.addListener(metricListener);
    detach.add(() -> metrics.removeListener(metricListener));

    HealthCheckRegistryListener healthListener =
        new HealthCheckRegistryListener() {
          @Override
          public void onHealthCheckAdded(String name, HealthCheck check) {
            remove(meters, "health:" + name);
            bind(
                meters,
                "health:" + name,
                List.of(
                    io.micrometer.core.instrument.Gauge.builder(
                            "cairn.health", check, c -> c.execute().isHealthy() ? 1 : 0)
                        .tag("check", name)
                        .description("1 when the Cairn health check is healthy, 0 otherwise")
                        .register(meters)));
          }

          @Override
          public void onHealthCheckRemoved(String name, HealthCheck check) {
            remove(meters, "health:" + name);
          }
        };
    // addListener replays every existing health check to the listener first.
    health.addListener(healthListener);
    detach.add(() -> health.removeListener(healthListener));
    detach.add(() -> bound.keySet().forEach(name -> remove(meters, name)));
  }

  private void add(MeterRegistry meters, String name, Metric metric) {
    // Micrometer hands back an existing meter of the same id: drop ours first, then register.
    remove(meters, name);
    List<io.micrometer.core.instrument.Meter> added = new ArrayList<>();
    if (metric instanceof Counter c) {
      added.add(FunctionCounter.builder(name, c, Counter::getCount).register(meters));
    } else if (metric instanceof Meter m) {
      added.add(FunctionCounter.builder(name, m, Meter::getCount).register(meters));
    } else if (metric instanceof Timer t) {
      added.add(
          FunctionTimer.builder(
                  name,
                  t,
                  Timer::getCount,
                  timer -> timer.getSnapshot().getMean() * timer.getCount(),
                  TimeUnit.NANOSECONDS)
              .register(meters));
      for (double q : QUANTILES) {
        added.add(
            TimeGauge.builder(
                    name + ".percentile",
                    t,
                    TimeUnit.NANOSECONDS,
                    timer -> timer.getSnapshot().getValue(q))
                .tag("quantile", Double.toString(q))
                .register(meters));
      }
    } else if (metric instanceof Histogram h) {
      added.add(FunctionCounter.builder(name + ".count", h, Histogram::getCount).register(meters));
      for (double q : QUANTILES) {
        added.add(
            io.micrometer.core.instrument.Gauge.builder(
                    name + ".percentile", h, histogram -> histogram.getSnapshot().getValue(q))
                .tag("quantile", Double.toString(q))
                .register(meters));
      }
    } else if (metric instanceof Gauge<?> g) {
      added.add(
          io.micrometer.core.instrument.Gauge.builder(name, g, CairnMeterBinder::numberOf)
              .register(meters));
    }
    bind(meters, name, added);
  }

  /** NaN for a gauge whose value is not a number (Micrometer drops NaN samples). */
  private static double numberOf(Gauge<?> gauge) {
    Object v = gauge.getValue();
    return v instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  private void bind(
      MeterRegistry meters, String key, List<io.micrometer.core.instrument.Meter> added) {
    bound.put(key, added);
  }

  private void remove(MeterRegistry meters, String key) {
    List<io.micrometer.core.instrument.Meter> gone = bound.remove(key);
    if (gone != null) {
      gone.forEach(meters::remove);
    }
  }

  @Override
  public synchronized void close() {
    detach.forEach(Runnable::run);
    detach.clear();
  }
}
