package io.cairn.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.health.HealthCheck;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class CairnMeterBinderTest {
  private final PersistenceRegistry registry =
      PersistenceRegistry.open(ConfigFactory.parseString("cairn.backends.main.type = memory"));
  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  @AfterEach
  void close() {
    registry.close();
  }

  @Test
  void existingAndLaterMetricsAndHealthChecksAreBound() {
    KeyValueStore kv = registry.backend("main").keyValue("before");
    kv.put(new byte[] {1}, new byte[] {2});
    try (CairnMeterBinder binder = CairnMeterBinder.of(registry)) {
      binder.bindTo(meters);
      int before = meters.getMeters().size();
      assertThat(before).isPositive();
      for (String name : registry.metrics().getNames()) {
        assertThat(meters.getMeters())
            .as("metric %s is bound", name)
            .anySatisfy(m -> assertThat(m.getId().getName()).startsWith(name));
      }

      // Counts are counters or timers, not gauges, and follow the Dropwizard values.
      registry
          .metrics()
          .getTimers()
          .forEach(
              (name, timer) -> {
                FunctionTimer t = meters.get(name).functionTimer();
                assertThat(t.count()).isEqualTo(timer.getCount());
              });
      registry
          .metrics()
          .getMeters()
          .forEach(
              (name, meter) -> {
                FunctionCounter c = meters.get(name).functionCounter();
                assertThat(c.count()).isEqualTo(meter.getCount());
              });
      registry
          .metrics()
          .getCounters()
          .forEach(
              (name, counter) -> {
                FunctionCounter c = meters.get(name).functionCounter();
                assertThat(c.count()).isEqualTo(counter.getCount());
              });

      // A metric registered after binding appears; removing it removes the meter.
      registry.metrics().counter("app.later").inc(3);
      assertThat(meters.get("app.later").functionCounter().count()).isEqualTo(3.0);
      registry.metrics().remove("app.later");
      assertThat(meters.find("app.later").meters()).isEmpty();

      // Health: 1 when healthy, 0 when not, for checks added before and after binding.
      AtomicBoolean broken = new AtomicBoolean();
      registry
          .healthChecks()
          .register(
              "forced",
              new HealthCheck() {
                @Override
                protected Result check() {
                  return broken.get() ? Result.unhealthy("down") : Result.healthy();
                }
              });
      Gauge forced = meters.get("cairn.health").tag("check", "forced").gauge();
      assertThat(forced.value()).isEqualTo(1.0);
      broken.set(true);
      assertThat(forced.value()).isEqualTo(0.0);
      assertThat(meters.get("cairn.health").gauges()).hasSizeGreaterThanOrEqualTo(2);
    }
    // Closing the binder removes everything it added and stops following.
    assertThat(meters.getMeters()).isEmpty();
    registry.metrics().counter("app.after-close").inc();
    assertThat(meters.getMeters().stream().map(Meter::getId)).isEmpty();
  }
}
