package io.cairn.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotStore;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link RouteTableRebuild}: snapshots rebuilt from the log, checked, idempotent. */
class RouteTableRebuildTest {
  @TempDir Path dir;

  private PersistenceRegistry open(String type, int retain) {
    return TestBackends.open(
        dir,
        TestBackends.config(
            type,
            "cairn.route-tables.catalog { backend = main, snapshot-every = 5, retain-snapshots = "
                + retain
                + " }"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "sqlite", "rocksdb"})
  void aSnapshotThatDisagreesWithTheLogIsReplacedAndASecondRunChangesNothing(String type)
      throws Exception {
    try (PersistenceRegistry registry = open(type, 100)) {
      NavigableMap<String, Route> expected;
      try (RouteTable table = RouteTable.open(registry, "catalog")) {
        for (int i = 0; i < 12; i++) {
          table.put(Route.of("/r/" + i, "t" + i));
        }
        table.remove("/r/3");
        expected = table.routes();
      }
      // A snapshot stored intact by the backend but wrong for the table: one route missing.
      SnapshotStore snapshots = registry.backend("main").snapshots("routing.catalog");
      assertThat(snapshots.list()).extracting(i -> i.version()).contains(10L);
      TreeMap<String, Route> wrong = new TreeMap<>();
      try (RouteTable table = RouteTable.open(registry, "catalog")) {
        table.routes().forEach((k, r) -> wrong.put(k, r));
      }
      wrong.remove("/r/0");
      wrong.headMap("/r/9", true).entrySet().removeIf(e -> e.getValue().version() > 10);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      RouteFormat.writeSnapshot(out, 10, wrong);
      snapshots.save(10, out.toByteArray());

      RouteTableRebuild.Result first = RouteTableRebuild.run(registry, "catalog", Progress.NONE);
      // The table truncates its log before its oldest snapshot (5): that snapshot is the base.
      assertThat(first.baseSnapshot()).isTrue();
      assertThat(first.base()).isEqualTo(5);
      assertThat(first.end()).isEqualTo(13);
      assertThat(first.replayed()).isEqualTo(8);
      assertThat(first.routes()).isEqualTo(11);
      assertThat(first.mismatches()).singleElement().asString().startsWith("snapshot 10:");
      assertThat(first.snapshotWritten()).isTrue();
      assertThat(snapshots.list()).extracting(i -> i.version()).doesNotContain(10L).contains(13L);

      RouteTableRebuild.Result second = RouteTableRebuild.run(registry, "catalog", Progress.NONE);
      assertThat(second.mismatches()).as("idempotent").isEmpty();
      assertThat(second.snapshotWritten()).as("an equal snapshot is there").isFalse();
      assertThat(second.routes()).isEqualTo(first.routes());

      try (RouteTable table = RouteTable.open(registry, "catalog")) {
        assertThat(table.routes()).isEqualTo(expected);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void afterTruncationTheOldestRetainedSnapshotIsTheBase(String type) {
    try (PersistenceRegistry registry = open(type, 2)) {
      try (RouteTable table = RouteTable.open(registry, "catalog")) {
        for (int i = 0; i < 23; i++) {
          table.put(Route.of("/r/" + (i % 7), "t" + i));
        }
      }
      RouteTableRebuild.Result r = RouteTableRebuild.run(registry, "catalog", Progress.NONE);
      assertThat(r.baseSnapshot()).isTrue();
      assertThat(r.base()).isEqualTo(15);
      assertThat(r.end()).isEqualTo(23);
      assertThat(r.routes()).isEqualTo(7);
      assertThat(r.mismatches()).isEmpty();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void aLogThatStillStartsAtZeroIsReplayedWhole(String type) {
    try (PersistenceRegistry registry = open(type, 2)) {
      try (RouteTable table = RouteTable.open(registry, "catalog")) {
        for (int i = 0; i < 4; i++) {
          table.put(Route.of("/r/" + i, "t" + i));
        }
      }
      RouteTableRebuild.Result r = RouteTableRebuild.run(registry, "catalog", Progress.NONE);
      assertThat(r.baseSnapshot()).isFalse();
      assertThat(r.replayed()).isEqualTo(4);
      assertThat(r.snapshotWritten()).isTrue();
      assertThat(registry.backend("main").snapshots("routing.catalog").list())
          .extracting(i -> i.version())
          .containsExactly(4L);
    }
  }
}
