package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.health.HealthCheck;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Maintenance;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.RetentionFloors;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.EventType;
import io.cairn.persistence.spi.Events;
import io.cairn.tck.ManualClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Background maintenance (PersistenceRegistry + Maintenance) on the memory backend, driven by a
 * manual clock through {@link Maintenance#runDue()}: nothing sleeps.
 */
class MaintenanceTest {
  private final ManualClock clock = new ManualClock();
  private final List<String> events = new CopyOnWriteArrayList<>();
  private PersistenceRegistry registry;

  private final Events sink =
      new Events() {
        @Override
        public boolean enabled() {
          return true;
        }

        @Override
        public void emit(EventType type, String backend, Map<String, ?> fields) {
          Events.check(fields);
          events.add(type.jsonName() + " " + backend + " " + fields);
        }
      };

  @AfterEach
  void close() {
    if (registry != null) {
      registry.close();
    }
  }

  private StorageBackend open(String maintenance) {
    registry =
        PersistenceRegistry.builder()
            .clock(clock)
            .events(sink)
            .backgroundMaintenance(false)
            .open(
                ConfigFactory.parseString(
                    "cairn.backends.m { type = memory, maintenance { " + maintenance + " } }"));
    return registry.backend("m");
  }

  private long timerCount(String task) {
    return registry.metrics().timer("cairn.backends.m.maintenance." + task).getCount();
  }

  private long counter(String name) {
    return registry.metrics().counter("cairn.backends.m.maintenance." + name).getCount();
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void ttlSweepPurgesExpiredEntriesOnceItsPeriodHasPassed() {
    StorageBackend m = open("ttl-sweep-interval = 1m");
    KeyValueStore kv = m.keyValue("sessions");
    kv.put(b("a"), b("1"), Duration.ofSeconds(30));
    kv.put(b("b"), b("2"));
    Maintenance upkeep = registry.maintenance("m");
    assertThat(upkeep.tasks()).containsExactly(Maintenance.TTL_SWEEP);

    clock.advance(Duration.ofSeconds(40)); // expired, but the sweep is not due yet
    assertThat(upkeep.runDue()).isZero();
    assertThat(counter("ttl-sweep.purged")).isZero();

    clock.advance(Duration.ofSeconds(20));
    assertThat(upkeep.runDue()).isEqualTo(1);
    assertThat(counter("ttl-sweep.purged")).isEqualTo(1);
    assertThat(timerCount(Maintenance.TTL_SWEEP)).isEqualTo(1);
    assertThat(kv.get(b("b"))).isEqualTo(b("2"));
    assertThat(upkeep.runDue()).isZero(); // next one a period later
  }

  /**
   * retainNow (what {@code cairn compact} calls): runs at once, whatever the schedule, with the
   * task's limits and floors, and reports per named log what it removed.
   */
  @Test
  void retainNowAppliesRetentionAtOnceHonoursFloorsAndReportsPerLog() {
    StorageBackend m =
        open(
            "ttl-sweep-interval = 0, retention-interval = 1h, retention {"
                + " counted { max-records = 2 }, floored { max-records = 1 },"
                + " absent { max-records = 1 } }");
    LogStore counted = m.log("counted");
    LogStore floored = m.log("floored");
    for (int i = 0; i < 5; i++) {
      counted.append(b("c" + i));
      floored.append(b("f" + i));
    }
    m.extension(io.cairn.persistence.RetentionFloors.class)
        .orElseThrow()
        .register("floored", () -> 3);
    Maintenance upkeep = registry.maintenance("m");
    assertThat(upkeep.retentionLogs()).containsExactly("absent", "counted", "floored");
    assertThat(upkeep.runDue()).isZero(); // not due for an hour

    assertThat(upkeep.retainNow())
        .containsExactly(Map.entry("counted", 3L), Map.entry("floored", 3L));
    assertThat(counted.firstOffset()).isEqualTo(3);
    assertThat(floored.firstOffset()).isEqualTo(3); // the floor, not max-records' 4
    assertThat(counter("retention.removed")).isEqualTo(6);
    assertThat(events)
        .contains(
            "retention m {log=floored, removed=3, first-offset=3, reason=max-records,"
                + " held-by-floor=true}");
    assertThat(upkeep.retainNow())
        .containsExactly(Map.entry("counted", 0L), Map.entry("floored", 0L));
  }

  @Test
  void retentionKeepsTheNewestRecordsByCountAndByBytesAndOnlyOfNamedLogs() {
    StorageBackend m =
        open(
            "ttl-sweep-interval = 0, retention-interval = 5m, retention {"
                + " counted { max-records = 3 }, sized { max-bytes = 100B },"
                + " \"both.logs\" { max-records = 5, max-bytes = 40B } }");
    LogStore counted = m.log("counted");
    LogStore sized = m.log("sized");
    LogStore both = m.log("both.logs");
    LogStore other = m.log("other");
    for (int i = 0; i < 10; i++) {
      counted.append(b("record-" + i));
      sized.append(new byte[30]); // 10 x 30 bytes; 100B keeps the newest 3 (90 bytes)
      both.append(new byte[10]); // 5 by count, 4 by bytes: bytes wins
      other.append(b("kept"));
    }
    Maintenance upkeep = registry.maintenance("m");
    clock.advance(Duration.ofMinutes(5));
    assertThat(upkeep.runDue()).isEqualTo(1);

    assertThat(counted.firstOffset()).isEqualTo(7);
    assertThat(counted.read(0, 10))
        .extracting(r -> new String(r.payload(), StandardCharsets.UTF_8))
        .containsExactly("record-7", "record-8", "record-9");
    assertThat(sized.firstOffset()).isEqualTo(7);
    assertThat(both.firstOffset()).isEqualTo(6);
    assertThat(other.firstOffset()).isZero();
    assertThat(counter("retention.removed")).isEqualTo(7 + 7 + 6);
    assertThat(events)
        .contains(
            "retention m {log=counted, removed=7, first-offset=7, reason=max-records,"
                + " held-by-floor=false}",
            "retention m {log=sized, removed=7, first-offset=7, reason=max-bytes,"
                + " held-by-floor=false}");

    // within the limits now: the next run removes nothing; appends continue at their offsets
    counted.append(b("record-10"));
    clock.advance(Duration.ofMinutes(5));
    upkeep.runDue();
    assertThat(counted.firstOffset()).isEqualTo(8);
    assertThat(counted.nextOffset()).isEqualTo(11);
    assertThat(sized.firstOffset()).isEqualTo(7);
  }

  @Test
  void retentionByAgeRemovesRecordsAppendedLongerAgoThanMaxAge() {
    StorageBackend m = open("retention-interval = 1m, retention { aged { max-age = 10m } }");
    LogStore aged = m.log("aged");
    aged.append(b("old-0"));
    aged.append(b("old-1"));
    clock.advance(Duration.ofMinutes(6));
    aged.append(b("middle"));
    clock.advance(Duration.ofMinutes(4)); // old-* exactly 10m old: kept
    registry.maintenance("m").runDue();
    assertThat(aged.firstOffset()).isZero();

    clock.advance(Duration.ofMinutes(1)); // old-* 11m old, middle 5m
    registry.maintenance("m").runDue();
    assertThat(aged.firstOffset()).isEqualTo(2);
    assertThat(events)
        .contains(
            "retention m {log=aged, removed=2, first-offset=2, reason=max-age,"
                + " held-by-floor=false}");

    clock.advance(Duration.ofMinutes(10)); // everything older than 10m: the log is emptied
    registry.maintenance("m").runDue();
    assertThat(aged.firstOffset()).isEqualTo(3).isEqualTo(aged.nextOffset());
  }

  @Test
  void aRegisteredFloorHoldsRetentionBackAndReleasingItLetsRetentionGoOn() {
    StorageBackend m = open("retention-interval = 1m, retention { owned { max-records = 2 } }");
    LogStore owned = m.log("owned");
    for (int i = 0; i < 10; i++) {
      owned.append(b("r" + i));
    }
    RetentionFloors floors = m.extension(RetentionFloors.class).orElseThrow();
    Runnable release = floors.register("owned", () -> 4);
    clock.advance(Duration.ofMinutes(1));
    registry.maintenance("m").runDue();
    assertThat(owned.firstOffset()).isEqualTo(4);
    assertThat(events).anyMatch(e -> e.contains("held-by-floor=true"));

    release.run();
    clock.advance(Duration.ofMinutes(1));
    registry.maintenance("m").runDue();
    assertThat(owned.firstOffset()).isEqualTo(8);
  }

  @Test
  void aFailingTaskIsCountedAndRetriedWithBackoffWhileTheOthersKeepRunning() {
    StorageBackend m =
        open(
            "ttl-sweep-interval = 1m, retention-interval = 1m, retry-backoff = 10s,"
                + " retention { owned { max-records = 1 } }");
    LogStore owned = m.log("owned");
    owned.append(b("a"));
    owned.append(b("b"));
    AtomicBoolean broken = new AtomicBoolean(true);
    m.extension(RetentionFloors.class)
        .orElseThrow()
        .register(
            "owned",
            () -> {
              if (broken.get()) {
                throw new IllegalStateException("floor unavailable");
              }
              return Long.MAX_VALUE;
            });
    Maintenance upkeep = registry.maintenance("m");

    clock.advance(Duration.ofMinutes(1));
    assertThat(upkeep.runDue()).isEqualTo(2); // both ran; retention failed
    assertThat(upkeep.failures(Maintenance.RETENTION)).isEqualTo(1);
    assertThat(upkeep.failures(Maintenance.TTL_SWEEP)).isZero();
    assertThat(timerCount(Maintenance.RETENTION)).isEqualTo(1);
    assertThat(events)
        .anyMatch(
            e ->
                e.startsWith(
                    "maintenance-failure m {task=retention, failures-in-a-row=1,"
                        + " retry-in-ms=10000"));

    clock.advance(Duration.ofSeconds(10)); // retried after retry-backoff, fails again
    assertThat(upkeep.runDue()).isEqualTo(1);
    assertThat(upkeep.failures(Maintenance.RETENTION)).isEqualTo(2);
    clock.advance(Duration.ofSeconds(10)); // backoff doubled: 20s, not yet
    assertThat(upkeep.runDue()).isZero();
    clock.advance(Duration.ofSeconds(10));
    broken.set(false);
    assertThat(upkeep.runDue()).isEqualTo(1);
    assertThat(upkeep.failures(Maintenance.RETENTION)).isEqualTo(2);
    assertThat(owned.firstOffset()).isEqualTo(1);
    clock.advance(Duration.ofSeconds(30)); // the ttl sweep kept its own period meanwhile
    assertThat(upkeep.runDue()).isEqualTo(1);
    assertThat(timerCount(Maintenance.TTL_SWEEP)).isEqualTo(2);
    assertThat(
            registry
                .metrics()
                .counter("cairn.backends.m.maintenance.retention.failures")
                .getCount())
        .isEqualTo(2);
  }

  @Test
  void aSizeThresholdTurnsTheHealthCheckUnhealthyWithTheReasonAndBackToHealthy() {
    StorageBackend m = open("ttl-sweep-interval = 0, size-warning = 4KiB, check-interval = 1m");
    KeyValueStore kv = m.keyValue("blobs");
    kv.put(b("small"), new byte[100]);
    Maintenance upkeep = registry.maintenance("m");
    clock.advance(Duration.ofMinutes(1));
    upkeep.runDue();
    assertThat(health().isHealthy()).isTrue();
    assertThat(gauge("size-warning")).isEqualTo(0);

    kv.put(b("big"), new byte[8192]);
    clock.advance(Duration.ofMinutes(1));
    upkeep.runDue();
    HealthCheck.Result r = health();
    assertThat(r.isHealthy()).isFalse();
    assertThat(r.getMessage())
        .contains("backend 'm'", "above its maintenance.size-warning of 4KiB");
    assertThat(gauge("size-warning")).isEqualTo(1);
    assertThat((Long) gauge("size-bytes")).isGreaterThan(8192L);
    assertThat(events).anyMatch(e -> e.startsWith("size-warning m {above=true"));

    kv.delete(b("big"));
    clock.advance(Duration.ofMinutes(1));
    upkeep.runDue();
    assertThat(health().isHealthy()).isTrue();
    assertThat(gauge("size-warning")).isEqualTo(0);
    assertThat(events).anyMatch(e -> e.startsWith("size-warning m {above=false"));
  }

  @Test
  void compactionRunsByIntervalAndBySizeGrowth() {
    StorageBackend m =
        open(
            "ttl-sweep-interval = 0, compact-min-size = 1KiB, compact-growth-percent = 100,"
                + " check-interval = 1m, compact-interval = 1h");
    KeyValueStore kv = m.keyValue("blobs");
    Maintenance upkeep = registry.maintenance("m");
    clock.advance(Duration.ofMinutes(1));
    upkeep.runDue(); // below compact-min-size
    assertThat(compactions()).isZero();

    kv.put(b("x"), new byte[2000]);
    clock.advance(Duration.ofMinutes(1));
    upkeep.runDue();
    assertThat(compactions()).isEqualTo(1); // past the size (first time: grown from 0)

    clock.advance(Duration.ofMinutes(1));
    upkeep.runDue();
    assertThat(compactions()).isEqualTo(1); // not grown by 100% since

    kv.put(b("y"), new byte[2500]);
    clock.advance(Duration.ofMinutes(1));
    upkeep.runDue();
    assertThat(compactions()).isEqualTo(2);

    clock.advance(Duration.ofHours(1)); // compact-interval since the last one
    upkeep.runDue();
    assertThat(compactions()).isEqualTo(3);
    assertThat(events)
        .filteredOn(e -> e.startsWith("compaction"))
        .extracting(e -> e.replaceAll("duration-ms=\\d+", "duration-ms=N"))
        .first()
        .asString()
        .startsWith("compaction m {trigger=size, bytes-before=");
    assertThat(events).anyMatch(e -> e.startsWith("compaction m {trigger=interval"));
  }

  @Test
  void theMaintenanceThreadRunsTasksAndCloseStopsIt() throws Exception {
    registry =
        PersistenceRegistry.builder()
            .open(
                ConfigFactory.parseString(
                    "cairn.backends.threaded { type = memory, maintenance.ttl-sweep-interval ="
                        + " 20ms }"));
    KeyValueStore kv = registry.backend("threaded").keyValue("k");
    kv.put(b("a"), b("1"));
    assertThat(threads("cairn-maintenance-threaded")).isEqualTo(1);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (registry.metrics().timer("cairn.backends.threaded.maintenance.ttl-sweep").getCount() < 2
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(registry.metrics().timer("cairn.backends.threaded.maintenance.ttl-sweep").getCount())
        .isGreaterThanOrEqualTo(2);
    registry.close();
    registry = null;
    assertThat(threads("cairn-maintenance-threaded")).isZero();
  }

  @Test
  void withoutBackgroundMaintenanceNoThreadStarts() {
    open("ttl-sweep-interval = 10m");
    assertThat(registry.maintenance("m").tasks()).containsExactly(Maintenance.TTL_SWEEP);
    assertThat(threads("cairn-maintenance-m")).isZero();
  }

  @Test
  void badMaintenanceSettingsAreListedTogether() {
    assertThatThrownBy(
            () ->
                open(
                    "ttl-sweep-interval = 10, size-warning = 1GiB, check-interval = 0,"
                        + " retension {}, retention { a {}, b { max-records = -1 },"
                        + " c { max-bytes = 100 }, d { max-age = 30 } }"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cairn.backends.m.maintenance.ttl-sweep-interval")
        .hasMessageContaining("did you mean 'retention'")
        .hasMessageContaining("cairn.backends.m.maintenance.check-interval")
        .hasMessageContaining("cairn.backends.m.maintenance.retention.a.max-records")
        .hasMessageContaining("cairn.backends.m.maintenance.retention.b.max-records")
        .hasMessageContaining("cairn.backends.m.maintenance.retention.c.max-bytes")
        .hasMessageContaining("cairn.backends.m.maintenance.retention.d.max-age");
    registry = null;
  }

  private HealthCheck.Result health() {
    return registry.healthChecks().runHealthCheck("cairn.backends.m");
  }

  private Object gauge(String name) {
    return registry.metrics().getGauges().get("cairn.backends.m.maintenance." + name).getValue();
  }

  private long compactions() {
    return events.stream().filter(e -> e.startsWith("compaction ")).count();
  }

  private static long threads(String name) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals(name) && t.isAlive())
        .count();
  }
}
