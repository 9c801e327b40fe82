package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.RetentionFloors;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.EventType;
import io.cairn.persistence.spi.Events;
import io.cairn.tck.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The structured event sink configured by {@code cairn.events}: JSON lines, no keys or values. */
class EventSinkTest {
  private static final String MARKER = "Zq7MarkerSecret";

  @TempDir Path tmp;
  private final ManualClock clock = new ManualClock();

  private PersistenceRegistry open(String events, String maintenance) {
    return PersistenceRegistry.builder()
        .clock(clock)
        .baseDirectory(tmp)
        .backgroundMaintenance(false)
        .open(
            ConfigFactory.parseString(
                "cairn.events { "
                    + events
                    + " }\ncairn.backends.\"m.1\" { type = memory, maintenance { "
                    + maintenance
                    + " } }"));
  }

  private static byte[] marked(String what) {
    return (MARKER + "-" + what).getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void everyScenarioWritesJsonLinesWithoutAnyKeyOrValue() throws Exception {
    Path file = tmp.resolve("events.jsonl");
    try (PersistenceRegistry r =
        open(
            "sink = file, file = events.jsonl",
            "ttl-sweep-interval = 1m, retention-interval = 1m, check-interval = 1m,"
                + " size-warning = 1KiB, compact-min-size = 1KiB, retry-backoff = 1s,"
                + " retention { trimmed { max-records = 2 },"
                + " failing { max-records = 1 } }")) {
      StorageBackend m = r.backend("m.1");
      KeyValueStore kv = m.keyValue("sessions");
      for (int i = 0; i < 20; i++) {
        kv.put(marked("key" + i), marked("value" + i), Duration.ofSeconds(10));
      }
      kv.put(marked("big"), marked("x".repeat(4000)));
      LogStore log = m.log("trimmed");
      for (int i = 0; i < 10; i++) {
        log.append(marked("payload" + i));
      }
      LogStore failing = m.log("failing");
      failing.append(marked("a"));
      failing.append(marked("b"));
      m.extension(RetentionFloors.class)
          .orElseThrow()
          .register(
              "failing",
              () -> {
                throw new IllegalStateException("floor down for " + MARKER.length());
              });
      clock.advance(Duration.ofMinutes(1));
      r.maintenance("m.1").runDue(); // sweep, retention (one log fails), compaction, size warning
      assertThat(m.verify(Progress.NONE).healthy()).isTrue();
      r.events()
          .emit(
              EventType.MIGRATION,
              null,
              Map.of("from", "m.1", "to", "other", "entries", 21L, "verified", true));
      assertThat(r.metrics().counter("cairn.events.emitted").getCount()).isGreaterThan(5);
    }

    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    String all = String.join("\n", lines);
    assertThat(all).doesNotContain(MARKER);
    assertThat(all).doesNotContainIgnoringCase(HexFormat.of().formatHex(marked("key0")));
    assertThat(all)
        .doesNotContain(
            java.util.Base64.getEncoder().encodeToString(MARKER.getBytes(StandardCharsets.UTF_8)));
    assertThat(lines)
        .allSatisfy(
            l ->
                assertThat(l)
                    .matches(
                        "\\{\"time\":\"2026-01-01T00:0\\d:00Z\",\"type\":\"[a-z-]+\","
                            + "\"backend\":(\"m.1\"|null)(,\"[a-z-]+\":[^,]+)*}"));
    Set<String> types =
        lines.stream()
            .map(l -> l.replaceAll(".*\"type\":\"([a-z-]+)\".*", "$1"))
            .collect(Collectors.toSet());
    assertThat(types)
        .contains(
            "recovery",
            "retention",
            "maintenance-failure",
            "compaction",
            "size-warning",
            "migration");
    assertThat(lines.get(0))
        .isEqualTo(
            "{\"time\":\"2026-01-01T00:00:00Z\",\"type\":\"recovery\",\"backend\":\"m.1\","
                + "\"subsystem\":\"backend\",\"backend-type\":\"memory\",\"durability\":\"none\","
                + "\"duration-ms\":"
                + lines.get(0).replaceAll(".*\"duration-ms\":(\\d+).*", "$1")
                + "}");
    // retention names the log (a store name is not a key), never the records
    assertThat(all).contains("\"removed\":8");
  }

  @Test
  void aSinkOpenedFromConfigurationIsClosedAndItsMetricsRemovedWithTheRegistry() throws Exception {
    PersistenceRegistry r = open("sink = slf4j, logger = cairn.events.test", "");
    assertThat(r.events().enabled()).isTrue();
    r.events().emit(EventType.BACKUP, "m.1", Map.of("kind", "checkpoint"));
    assertThat(r.metrics().counter("cairn.events.emitted").getCount()).isEqualTo(2); // + recovery
    r.close();
    assertThat(r.metrics().getCounters()).doesNotContainKey("cairn.events.emitted");
    try (PersistenceRegistry off = open("", "")) {
      assertThat(off.events().enabled()).isFalse(); // off by default
    }
  }

  @Test
  void fieldsThatAreNotStringsNumbersOrBooleansAreRefused() {
    assertThatThrownBy(
            () -> Events.NONE.emit(EventType.RETENTION, "m", Map.of("key", new byte[] {1})))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("never stored bytes");
  }

  @Test
  void badEventSettingsAreConfigurationErrors() {
    assertThatThrownBy(() -> open("sink = kafka", ""))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cairn.events.sink");
    assertThatThrownBy(() -> open("sink = file, file = \"\"", ""))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cairn.events.file");
    assertThatThrownBy(() -> open("sink = file, file = \"no/such/dir/e.jsonl\"", ""))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("Cannot open the event file");
  }
}
