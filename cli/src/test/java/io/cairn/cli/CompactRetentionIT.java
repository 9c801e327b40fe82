package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.queue.DurableQueue;
import io.cairn.routing.Route;
import io.cairn.routing.RouteTable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code cairn compact} through the real jar applies the backend's configured log retention and
 * purges expired entries, per log in text and {@code --json}; a queue's and a route table's logs
 * named under retention by mistake keep every record their recovery needs (the subsystems reopen
 * with all their state).
 */
class CompactRetentionIT {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void compactAppliesRetentionAndPurgesExpiredEntries(String type) throws IOException {
    Path conf = dir.resolve("app.conf");
    Files.writeString(
        conf,
        "cairn.backends.b { type = "
            + type
            + ", durability = normal, data-dir = \""
            + dir.resolve("data")
            + "\"\n"
            + "  maintenance.retention {\n"
            + "    audit { max-records = 3 }\n"
            + "    \"queue.q\" { max-records = 1 }\n" // a mistake: the queue trims itself
            + "    \"routing.t\" { max-records = 1 }\n" // the same for the route table
            + "  }\n"
            + "}\n"
            + "cairn.queues.q { backend = b, visibility-timeout = 1h }\n"
            + "cairn.route-tables.t { backend = b, snapshot-every = 1000 }\n");
    try (PersistenceRegistry r = PersistenceRegistry.open(ConfigFactory.parseFile(conf.toFile()));
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8());
        RouteTable t = RouteTable.open(r, "t")) {
      for (int i = 0; i < 10; i++) {
        r.backend("b").log("audit").append(("a" + i).getBytes(StandardCharsets.UTF_8));
      }
      r.backend("b").log("untouched").append(new byte[] {1});
      r.backend("b").keyValue("kv").put(bytes("live"), bytes("v"));
      r.backend("b").keyValue("kv").put(bytes("short"), bytes("v"), Duration.ofMillis(1));
      q.enqueueAll(List.of("m0", "m1", "m2"));
      t.put(Route.of("/a", "a-1"));
      t.put(Route.of("/b", "b-1"));
      t.put(Route.of("/c", "c-1"));
    }

    JarRunner text = cairn("compact", "--config", conf.toString());
    assertThat(text.exitCode()).as(text.all()).isZero();
    assertThat(text.out())
        .contains("Retention of log 'audit': 7 records removed, 10 -> 3 records")
        .contains("Retention of log 'queue.q': 0 records removed")
        .contains("kept whole: queue 'q' trims its own log")
        .contains("kept whole: route table 't' trims its own log")
        .contains("1 expired entry purged")
        .contains("disk ")
        .doesNotContain("'untouched'");

    try (PersistenceRegistry r = PersistenceRegistry.open(ConfigFactory.parseFile(conf.toFile()));
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8());
        RouteTable t = RouteTable.open(r, "t")) {
      var audit = r.backend("b").log("audit");
      assertThat(audit.firstOffset()).isEqualTo(7);
      assertThat(audit.read(0, 100))
          .extracting(rec -> new String(rec.payload(), StandardCharsets.UTF_8))
          .containsExactly("a7", "a8", "a9");
      assertThat(r.backend("b").log("untouched").firstOffset()).isZero();
      assertThat(r.backend("b").keyValue("kv").get(bytes("live"))).isEqualTo(bytes("v"));
      assertThat(q.poll(10, Duration.ZERO))
          .extracting(d -> d.payload())
          .containsExactly("m0", "m1", "m2");
      assertThat(t.routes().keySet()).containsExactly("/a", "/b", "/c");
      r.backend("b").log("audit").append(bytes("a10"));
    }

    // --json: per log removed, records and bytes before and after, who kept it whole
    JarRunner json = cairn("compact", "--config", conf.toString(), "--json");
    assertThat(json.exitCode()).as(json.all()).isZero();
    Config j =
        ConfigFactory.parseString(
            json.out(), ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
    Map<String, Config> byLog =
        j.getConfigList("retention").stream()
            .collect(Collectors.toMap(c -> c.getString("log"), c -> c));
    assertThat(byLog).containsOnlyKeys("audit", "queue.q", "routing.t");
    assertThat(byLog.get("audit").getLong("removed")).isEqualTo(1);
    assertThat(byLog.get("audit").getLong("recordsBefore")).isEqualTo(4);
    assertThat(byLog.get("audit").getLong("recordsAfter")).isEqualTo(3);
    assertThat(byLog.get("audit").getIsNull("keptBy")).isTrue();
    assertThat(byLog.get("queue.q").getLong("removed")).isZero();
    assertThat(byLog.get("queue.q").getString("keptBy")).isEqualTo("queue 'q'");
    assertThat(byLog.get("routing.t").getString("keptBy")).isEqualTo("route table 't'");
    assertThat(j.getLong("expiredPurged")).isZero();
    assertThat(j.getLong("diskBytesBefore")).isPositive();
    assertThat(j.getLong("diskBytesAfter")).isPositive();
  }

  private JarRunner cairn(String... args) {
    return JarRunner.run(dir, Map.of(), List.of(), args);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
