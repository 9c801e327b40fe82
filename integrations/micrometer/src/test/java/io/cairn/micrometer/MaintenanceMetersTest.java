package io.cairn.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Background maintenance and the event sink show in Micrometer without configuration. */
class MaintenanceMetersTest {
  @TempDir Path dir;

  /** A clock the test moves. */
  private static final class MovingClock extends Clock {
    final AtomicReference<Instant> now =
        new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now.get();
    }
  }

  @Test
  void maintenanceTimersGaugesFailuresTheSizeHealthAndTheEventCountersAreBound() {
    MovingClock clock = new MovingClock();
    try (PersistenceRegistry registry =
            PersistenceRegistry.builder()
                .clock(clock)
                .baseDirectory(dir)
                .backgroundMaintenance(false)
                .open(
                    ConfigFactory.parseString(
                        "cairn.events { sink = file, file = e.jsonl }\n"
                            + "cairn.backends.main { type = memory, maintenance {"
                            + " size-warning = 1KiB, check-interval = 1m } }"));
        CairnMeterBinder binder = CairnMeterBinder.of(registry)) {
      SimpleMeterRegistry meters = new SimpleMeterRegistry();
      binder.bindTo(meters);
      registry.backend("main").keyValue("k").put(new byte[] {1}, new byte[4096]);
      clock.now.updateAndGet(t -> t.plus(Duration.ofMinutes(1)));
      registry.maintenance("main").runDue();

      String p = "cairn.backends.main.maintenance.";
      assertThat(meters.get(p + "size-check").functionTimer().count()).isEqualTo(1.0);
      assertThat(meters.get(p + "ttl-sweep.failures").functionCounter().count()).isZero();
      assertThat(meters.get(p + "size-warning").gauge().value()).isEqualTo(1.0);
      assertThat(meters.get(p + "size-bytes").gauge().value()).isGreaterThan(4096.0);
      assertThat(meters.get("cairn.health").tag("check", "cairn.backends.main").gauge().value())
          .isZero();
      assertThat(meters.get("cairn.events.emitted").functionCounter().count()).isEqualTo(2.0);
    }
  }
}
