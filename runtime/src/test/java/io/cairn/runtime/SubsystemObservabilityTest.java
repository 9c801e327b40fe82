package io.cairn.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.config.CairnConfig;
import io.cairn.persistence.Codec;
import io.cairn.raft.RaftEntry;
import io.cairn.raft.RaftGroups;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, precise contracts: metric names of different owners cannot collide (a backend named
 * {@code queues} beside subsystems whose entries share one name), counts of events are Counters or
 * Meters, not Gauges, and every subsystem — backend, queue, cache, route table, Raft group — has a
 * health check.
 */
class SubsystemObservabilityTest {
  @TempDir Path dir;

  /** Metric names that count events: published as a Gauge, a reporter cannot derive a rate. */
  private static final List<String> COUNT_SUFFIXES =
      List.of(
          ".hits",
          ".misses",
          ".evictions",
          ".errors",
          ".loads",
          ".load-failures",
          ".rejected",
          ".oversize-loads",
          ".enqueued",
          ".acked",
          ".nacked",
          ".dead-lettered",
          ".redelivered",
          ".quarantined");

  private Cairn open() throws IOException {
    Path file = dir.resolve("app.conf");
    Files.writeString(
        file,
        "cairn {\n"
            + "  backends.queues { type = sqlite, data-dir = \""
            + dir.resolve("data")
            + "\" }\n"
            + "  queues.kv { backend = queues }\n"
            + "  caches.kv { backend = queues }\n"
            + "  route-tables.kv { backend = queues }\n"
            + "}\n"
            + RaftGroups.PATH
            + ".kv { backend = queues }\n");
    return Cairn.builder(CairnConfig.load(file))
        .cacheCodecs("kv", String.class, Codec.utf8(), String.class, Codec.utf8())
        .build()
        .start();
  }

  private static void exercise(Cairn cairn) {
    cairn.queue("kv").enqueue(new byte[] {1});
    cairn.queue("kv").poll(Duration.ofSeconds(5)).ifPresent(d -> cairn.queue("kv").ack(d));
    var cache = cairn.cache("kv", String.class, String.class);
    cache.put("a", "1");
    cache.getIfPresent("a");
    cache.getIfPresent("b");
    cairn.routeTable("kv").snapshot();
    cairn.raftStorage("kv").append(List.of(new RaftEntry(1, 1, new byte[] {1})));
  }

  @Test
  void everyMetricHasExactlyOneOwnerEvenWhenABackendIsNamedQueues() throws IOException {
    try (Cairn cairn = open()) {
      exercise(cairn);
      List<String> owners =
          List.of(
              "cairn.backends.queues.",
              "cairn.queues.kv.",
              "cairn.caches.kv.",
              "cairn.route-tables.kv.",
              RaftGroups.PATH + ".kv.");
      for (String owner : owners) {
        assertThat(cairn.metrics().getNames()).as(owner).anyMatch(n -> n.startsWith(owner));
      }
      for (String name : cairn.metrics().getNames()) {
        assertThat(owners.stream().filter(name::startsWith).count())
            .as("owners of metric " + name)
            .isEqualTo(1);
      }
    }
  }

  @Test
  void dottedBackendAndStoreNamesCannotReachAnotherOwnersMetrics() throws IOException {
    Path file = dir.resolve("dots.conf");
    Files.writeString(
        file,
        "cairn.backends.a { type = memory, durability = none, per-store-metrics = true }\n"
            + "cairn.backends.\"a.kv\" { type = memory, durability = none }\n");
    try (Cairn cairn = Cairn.builder(CairnConfig.load(file)).build().start()) {
      var registry = cairn.registry();
      registry.backend("a").keyValue("kv").get(new byte[] {1}); // per store: a, kv-store "kv"
      registry.backend("a.kv").keyValue("x").get(new byte[] {1}); // per kind: backend "a.kv"
      var timers = cairn.metrics().getTimers();
      assertThat(timers.get("cairn.backends.a.kv.kv.get").getCount()).isEqualTo(1);
      assertThat(timers.get("cairn.backends.a:kv.kv.get").getCount()).isEqualTo(1);
      assertThat(cairn.healthChecks().getNames())
          .contains("cairn.backends.a", "cairn.backends.a:kv");
    }
  }

  @Test
  void countsAreCountersOrMetersNotGauges() throws IOException {
    try (Cairn cairn = open()) {
      exercise(cairn);
      for (String gauge : cairn.metrics().getGauges().keySet()) {
        assertThat(COUNT_SUFFIXES).as("gauge " + gauge).noneMatch(gauge::endsWith);
      }
      assertThat(cairn.metrics().getCounters().get("cairn.caches.kv.l1.hits").getCount())
          .isEqualTo(1);
      assertThat(cairn.metrics().getCounters().get("cairn.caches.kv.l1.misses").getCount())
          .isGreaterThanOrEqualTo(1);
      assertThat(cairn.metrics().getMeters().get("cairn.queues.kv.enqueued").getCount())
          .isEqualTo(1);
    }
  }

  @Test
  void everySubsystemHasAHealthCheckAndIsHealthy() throws IOException {
    try (Cairn cairn = open()) {
      exercise(cairn);
      SortedMap<String, HealthCheck.Result> results = cairn.healthChecks().runHealthChecks();
      assertThat(results.keySet())
          .contains(
              "cairn.backends.queues",
              "cairn.queues.kv",
              "cairn.caches.kv",
              "cairn.route-tables.kv",
              RaftGroups.PATH + ".kv");
      for (Map.Entry<String, HealthCheck.Result> e : results.entrySet()) {
        assertThat(e.getValue().isHealthy()).as(e.getKey() + ": " + e.getValue()).isTrue();
      }
      assertThat(results.get(RaftGroups.PATH + ".kv").getMessage()).contains("1 log entries");
    }
  }

  @Test
  void aClosedQueueRemovesItsCheckAndAClosedRaftBackendReportsUnhealthy() throws IOException {
    Cairn cairn = open();
    exercise(cairn);
    var registry = cairn.healthChecks();
    cairn.close();
    // a closed queue takes its check away, as caches and route tables do
    assertThat(registry.getNames()).doesNotContain("cairn.queues.kv");
    assertThat(registry.runHealthCheck(RaftGroups.PATH + ".kv").isHealthy()).isFalse();
  }
}
