package io.cairn.routing;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.crash.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A child JVM writes route changes, printing each one it got acknowledged, and is killed with
 * SIGKILL at a random point; the table reopened in this JVM must hold every acknowledged change
 * (plus at most the one in flight) — across snapshots, retention and log truncation. Durable
 * backends only, at {@code durability = normal}.
 */
class RouteTableCrashTest {
  private static final int CYCLES = Integer.getInteger("routingCrashCycles", 4);
  private static final long SEED = 0xC4A5_4L;

  @TempDir Path dir;

  static Config config(String type) {
    return TestBackends.config(
        type,
        "cairn.route-tables.crash { backend = main, snapshot-every = 25, retain-snapshots = 2 }");
  }

  /**
   * Change number {@code j}: puts, and every fourth a removal of the key put two changes earlier.
   */
  static void apply(Map<String, Route> model, RouteTable table, int j) {
    if (j % 4 == 3) {
      String key = "/k/" + (j - 2);
      if (table != null) {
        table.remove(key);
      } else {
        model.remove(key);
      }
    } else {
      Route r = Route.builder("/k/" + j).target("t" + j, j % 100).metadata("j", "" + j).build();
      if (table != null) {
        table.put(r);
      } else {
        model.put(r.key(), r);
      }
    }
  }

  /** The child: applies changes from {@code args[2]} on, printing "ACK j" after change j. */
  public static void main(String[] args) {
    String type = args[0];
    Path base = Path.of(args[1]);
    int from = Integer.parseInt(args[2]);
    try (PersistenceRegistry registry = TestBackends.open(base, config(type));
        RouteTable table = RouteTable.open(registry, "crash")) {
      if (table.version() != from) {
        System.out.println("BAD version " + table.version() + " expected " + from);
        return;
      }
      System.out.println("READY");
      for (int j = from; ; j++) {
        apply(null, table, j);
        System.out.println("ACK " + j);
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void acknowledgedChangesSurviveKillNine(String type) throws Exception {
    Random random = new Random(SEED);
    int applied = 0;
    for (int cycle = 0; cycle < CYCLES; cycle++) {
      int lastAck;
      try (ChildJvm child =
          ChildJvm.start(RouteTableCrashTest.class, type, dir.toString(), "" + applied)) {
        child.awaitLine("READY"::equals, Duration.ofSeconds(60));
        int killAfter = applied + 20 + random.nextInt(120);
        child.awaitLine(("ACK " + killAfter)::equals, Duration.ofSeconds(60));
        child.killHard();
        lastAck =
            child.output().stream()
                .filter(l -> l.startsWith("ACK "))
                .mapToInt(l -> Integer.parseInt(l.substring(4)))
                .max()
                .orElseThrow();
      }
      try (PersistenceRegistry registry = TestBackends.open(dir, config(type));
          RouteTable table = RouteTable.open(registry, "crash")) {
        long n = table.version();
        assertThat(n)
            .as(
                "cycle %d: changes recovered vs last acknowledged %d (seed %d)",
                cycle, lastAck, SEED)
            // Every acknowledged change is there, plus at most the one in flight at the kill.
            .isBetween((long) lastAck + 1, (long) lastAck + 2);
        NavigableMap<String, Route> expected = new TreeMap<>();
        for (int j = 0; j < n; j++) {
          apply(expected, null, j);
        }
        assertThat(table.routes().keySet())
            .as("cycle %d (seed %d)", cycle, SEED)
            .isEqualTo(expected.keySet());
        table
            .routes()
            .forEach((k, r) -> assertThat(r.toBuilder().build()).isEqualTo(expected.get(k)));
        applied = (int) n;
      }
    }
  }
}
