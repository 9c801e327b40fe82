package io.cairn.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ManualClock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The route table's part in operations: a recovery event (records replayed) on open, and a
 * retention floor keeping background log retention off the table's own log.
 */
class RouteTableEventsAndRetentionTest {
  @TempDir Path dir;
  private final ManualClock clock = new ManualClock();

  private PersistenceRegistry open() {
    return PersistenceRegistry.builder()
        .clock(clock)
        .baseDirectory(dir)
        .backgroundMaintenance(false)
        .open(
            ConfigFactory.parseString(
                "cairn.events { sink = file, file = events.jsonl }\n"
                    + "cairn.backends.main { type = memory, maintenance { retention-interval = 1m,"
                    + " retention { \"routing.catalog\" { max-records = 1 } } } }\n"
                    + "cairn.route-tables.catalog { backend = main }\n"));
  }

  @Test
  void recoveryIsAnEventAndRetentionNeverTrimsTheTablesLog() throws Exception {
    try (PersistenceRegistry r = open();
        RouteTable table = RouteTable.open(r, "catalog")) {
      table.put(Route.of("/secret-route-key/", "secret-address"));
      table.put(Route.of("/b/", "b"));
      table.put(Route.of("/c/", "c"));
      clock.advance(Duration.ofMinutes(1));
      assertThat(r.maintenance("main").runDue()).isEqualTo(1);
      assertThat(r.backend("main").log("routing.catalog").firstOffset()).isZero();
    }
    String events = Files.readString(dir.resolve("events.jsonl"), StandardCharsets.UTF_8);
    assertThat(events)
        .contains(
            "\"type\":\"recovery\",\"backend\":\"main\",\"subsystem\":\"route-table\","
                + "\"name\":\"catalog\"")
        .doesNotContain("\"type\":\"retention\"")
        .doesNotContain("secret");
  }
}
