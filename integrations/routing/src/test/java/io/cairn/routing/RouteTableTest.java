package io.cairn.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.ClosedException;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.VersionConflictException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The route table's behaviour on every backend: resolution, versions, listeners, snapshots,
 * retention, restart with replay, and fall-back from corrupt snapshots. On durable backends a
 * restart closes and reopens the whole registry; on memory it reopens the table over the same open
 * backend.
 */
@ParameterizedClass(name = "{0}")
@ValueSource(strings = {"memory", "sqlite", "rocksdb", "postgres"})
class RouteTableTest {
  private static final long SEED = 0x5EED_2026L;

  @Parameter String type;

  @TempDir Path dir;

  private PersistenceRegistry registry;
  private RouteTable table;

  @BeforeEach
  void open() {
    registry = TestBackends.open(dir, config(5, 2));
    table = RouteTable.open(registry, "catalog");
  }

  @AfterEach
  void close() {
    if (table != null) {
      table.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  private com.typesafe.config.Config config(int snapshotEvery, int retain) {
    return TestBackends.config(
        type,
        "cairn.route-tables.catalog { backend = main, snapshot-every = "
            + snapshotEvery
            + ", retain-snapshots = "
            + retain
            + " }");
  }

  /** Closes the table (and on durable backends the registry) and opens it again. */
  private void restart() {
    table.close();
    table = null;
    if (TestBackends.durable(type)) {
      registry.close();
      registry = TestBackends.open(dir, config(5, 2));
    }
    table = RouteTable.open(registry, "catalog");
  }

  private LogStore log() {
    return registry.backend("main").log("routing.catalog");
  }

  private SnapshotStore snapshots() {
    return registry.backend("main").snapshots("routing.catalog");
  }

  // ------------------------------------------------------------------ resolution

  @Test
  void exactAndLongestPrefixResolution() {
    table.put(Route.of("/api/", "api-v1"));
    table.put(Route.of("/api/users", "users"));
    table.put(Route.of("/api/users/admin", "admin"));
    table.put(Route.of("/static", "cdn"));

    assertThat(table.get("/api/users")).map(r -> r.targets().get(0).address()).hasValue("users");
    assertThat(table.get("/api/users/")).isEmpty();
    assertThat(table.resolve("/api/users/42").map(Route::key)).hasValue("/api/users");
    assertThat(table.resolve("/api/users/admin/x").map(Route::key)).hasValue("/api/users/admin");
    assertThat(table.resolve("/api/orders").map(Route::key)).hasValue("/api/");
    assertThat(table.resolve("/api/").map(Route::key)).hasValue("/api/");
    assertThat(table.resolve("/api").map(Route::key)).isEmpty();
    assertThat(table.resolve("/statics").map(Route::key)).hasValue("/static");
    assertThat(table.resolve("/other")).isEmpty();

    table.put(Route.of("", "default"));
    assertThat(table.resolve("/other").map(Route::key)).hasValue("");
    assertThat(table.resolve("").map(Route::key)).hasValue("");
  }

  @Test
  void longestPrefixMatchesBruteForceOnRandomTables() {
    Random random = new Random(SEED);
    String alphabet = "ab/";
    Map<String, Route> reference = new TreeMap<>();
    List<Route> batch = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      String key = randomKey(random, alphabet, 6);
      Route r = Route.of(key, "t" + i);
      batch.add(r);
    }
    for (Route stored : table.putAll(batch)) {
      reference.put(stored.key(), stored);
    }
    for (int i = 0; i < 2000; i++) {
      String query = randomKey(random, alphabet, 9);
      Route expected = null;
      for (Route r : reference.values()) {
        if (query.startsWith(r.key())
            && (expected == null || r.key().length() > expected.key().length())) {
          expected = r;
        }
      }
      assertThat(table.resolve(query))
          .as("query '%s' (seed %d)", query, SEED)
          .isEqualTo(Optional.ofNullable(expected));
    }
  }

  private static String randomKey(Random random, String alphabet, int maxLength) {
    int n = random.nextInt(maxLength + 1);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  // ------------------------------------------------------------------ versions and writes

  @Test
  void versionsFollowLogOffsetsAndIdenticalPutsWriteNothing() {
    Route a = table.put(Route.of("a", "x"));
    Route b = table.put(Route.of("b", "y"));
    assertThat(a.version()).isEqualTo(1);
    assertThat(b.version()).isEqualTo(2);
    assertThat(table.version()).isEqualTo(2);

    Route again = table.put(Route.of("a", "x"));
    assertThat(again).isEqualTo(a);
    assertThat(table.version()).isEqualTo(2);
    assertThat(log().nextOffset()).isEqualTo(2);

    Route changed = table.put(a.toBuilder().metadata("owner", "team-a").build());
    assertThat(changed.version()).isEqualTo(3);
    assertThat(changed.metadata()).containsEntry("owner", "team-a");

    assertThat(table.remove("b")).hasValue(b);
    assertThat(table.remove("b")).isEmpty();
    assertThat(table.version()).isEqualTo(4);
    assertThat(table.size()).isEqualTo(1);
  }

  @Test
  void compareAndSetPut() {
    Route first = table.put(Route.of("k", "one"), 0);
    assertThatThrownBy(() -> table.put(Route.of("k", "two"), 0))
        .isInstanceOf(VersionConflictException.class)
        .hasMessageContaining("route table 'catalog'")
        .hasMessageContaining("'k'");
    Route second = table.put(Route.of("k", "two"), first.version());
    assertThat(second.targets()).extracting(Route.Target::address).containsExactly("two");
    assertThatThrownBy(() -> table.put(Route.of("k", "three"), first.version()))
        .isInstanceOf(VersionConflictException.class);
    assertThat(table.get("k")).hasValue(second);
  }

  @Test
  void putAllIsOneBatchAndLaterDuplicatesWin() {
    table.put(Route.of("same", "s"));
    long before = log().nextOffset();
    List<Route> stored =
        table.putAll(
            List.of(
                Route.of("x", "1"), Route.of("same", "s"), Route.of("y", "2"), Route.of("x", "3")));
    assertThat(log().nextOffset()).isEqualTo(before + 3);
    assertThat(stored.get(0).targets().get(0).address()).isEqualTo("3");
    assertThat(stored.get(1).version()).isEqualTo(1);
    assertThat(table.get("x").orElseThrow().targets().get(0).address()).isEqualTo("3");
    assertThat(table.get("x").orElseThrow().version()).isEqualTo(before + 3);
  }

  @Test
  void routeFieldsRoundTripThroughRestart() {
    Route r =
        Route.builder("/pay")
            .target("http://10.0.0.1:8080", 70)
            .target("http://10.0.0.2:8080", 30)
            .policy(Route.Policy.FAILOVER)
            .metadata("owner", "payments")
            .metadata("ünïcødé", "✓")
            .build();
    Route stored = table.put(r);
    restart();
    assertThat(table.get("/pay")).hasValue(stored);
  }

  // ------------------------------------------------------------------ listeners

  @Test
  void listenersSeeEveryChangeInOrderAndCannotBreakTheTable() {
    List<RouteChange> seen = new CopyOnWriteArrayList<>();
    AtomicReference<Throwable> nestedWrite = new AtomicReference<>();
    table.addListener(seen::add);
    table.addListener(
        c -> {
          throw new IllegalStateException("listener bug");
        });
    table.addListener(
        c -> {
          try {
            table.put(Route.of("nested", "n"));
          } catch (Throwable t) {
            nestedWrite.compareAndSet(null, t);
          }
        });

    Route a1 = table.put(Route.of("a", "1"));
    Route a2 = table.put(Route.of("a", "2"));
    table.remove("a");

    assertThat(seen)
        .containsExactly(
            new RouteChange("a", null, a1, 1),
            new RouteChange("a", a1, a2, 2),
            new RouteChange("a", a2, null, 3));
    assertThat(seen.get(2).isRemoval()).isTrue();
    assertThat(nestedWrite.get()).isInstanceOf(IllegalStateException.class);
    assertThat(table.get("nested")).isEmpty();
    assertThat(table.version()).isEqualTo(3);
  }

  @Test
  void readersRunConcurrentlyWithWriters() throws Exception {
    int writes = 400;
    CountDownLatch done = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread reader =
        new Thread(
            () -> {
              try {
                while (done.getCount() > 0) {
                  Optional<Route> r = table.resolve("/svc/7/items");
                  r.ifPresent(route -> assertThat("/svc/7/items").startsWith(route.key()));
                }
              } catch (Throwable t) {
                failure.set(t);
              }
            });
    reader.start();
    for (int i = 0; i < writes; i++) {
      table.put(Route.of("/svc/" + (i % 10) + "/", "t" + i));
      if (i % 3 == 0) {
        table.remove("/svc/" + ((i + 5) % 10) + "/");
      }
    }
    done.countDown();
    reader.join();
    assertThat(failure.get()).isNull();
  }

  // ------------------------------------------------------------------ snapshots, retention,
  // restart

  @Test
  void snapshotsAreTakenEveryNChangesRetainedAndTheLogTruncated() {
    for (int i = 0; i < 23; i++) {
      table.put(Route.of("k" + (i % 7), "v" + i));
    }
    // snapshot-every = 5: snapshots at 5, 10, 15, 20; retain 2.
    assertThat(snapshots().list()).extracting(SnapshotInfo::version).containsExactly(15L, 20L);
    assertThat(log().firstOffset()).isEqualTo(15);
    assertThat(log().nextOffset()).isEqualTo(23);
    assertThat(table.snapshot()).isEqualTo(23);
    assertThat(snapshots().list()).extracting(SnapshotInfo::version).containsExactly(20L, 23L);
    assertThat(log().firstOffset()).isEqualTo(20);
    assertThat(table.snapshot()).isEqualTo(23);
  }

  @Test
  void restartRebuildsTheSameTableFromSnapshotAndReplay() {
    Random random = new Random(SEED);
    for (int i = 0; i < 137; i++) {
      String key = "/r/" + random.nextInt(40);
      if (random.nextInt(5) == 0) {
        table.remove(key);
      } else {
        table.put(
            Route.builder(key)
                .target("h" + random.nextInt(9), random.nextInt(100))
                .metadata("i", Integer.toString(i))
                .build());
      }
    }
    NavigableMap<String, Route> before = table.routes();
    long version = table.version();
    assertThat(snapshots().list()).isNotEmpty();
    assertThat(log().nextOffset()).isGreaterThan(snapshots().latest().orElseThrow().version());

    restart();

    assertThat(table.routes()).as("seed %d", SEED).isEqualTo(before);
    assertThat(table.version()).isEqualTo(version);
    Route next = table.put(Route.of("/after", "x"));
    assertThat(next.version()).isEqualTo(version + 1);
  }

  @Test
  void restartWithoutAnySnapshotReplaysTheWholeLog() {
    table.put(Route.of("a", "1"));
    table.put(Route.of("b", "2"));
    table.remove("a");
    assertThat(snapshots().list()).isEmpty();
    NavigableMap<String, Route> before = table.routes();
    restart();
    assertThat(table.routes()).isEqualTo(before);
    assertThat(table.version()).isEqualTo(3);
  }

  @Test
  void garbageSavedAsNewestSnapshotFallsBackToThePreviousOne() {
    fillWithSnapshots();
    NavigableMap<String, Route> before = table.routes();
    long newest = snapshots().latest().orElseThrow().version();
    long garbageVersion = newest + 1;
    snapshots().save(garbageVersion, "not a route snapshot".getBytes(StandardCharsets.UTF_8));

    restart();

    assertThat(table.routes()).isEqualTo(before);
    // The unusable snapshot is gone and a fresh one covers the whole recovered log.
    List<Long> versions = snapshots().list().stream().map(SnapshotInfo::version).toList();
    assertThat(versions).doesNotContain(garbageVersion).contains(table.version());
    assertThat(log().firstOffset()).isEqualTo(versions.get(0));
  }

  @Test
  void corruptNewestSnapshotInPlaceFallsBackToTheOlderWithALongerReplay() {
    fillWithSnapshots();
    NavigableMap<String, Route> before = table.routes();
    List<SnapshotInfo> list = snapshots().list();
    assertThat(list).hasSize(2);
    long newest = list.get(1).version();
    // Replace the newest with a truncated copy of itself: intact for the store, invalid as a table.
    byte[] valid = readAll(newest);
    snapshots().save(newest, Arrays.copyOf(valid, valid.length - 7));

    restart();

    assertThat(table.routes()).isEqualTo(before);
    assertThat(snapshots().list()).extracting(SnapshotInfo::version).contains(table.version());
    // And a second restart starts from the fresh snapshot.
    restart();
    assertThat(table.routes()).isEqualTo(before);
  }

  @Test
  void bitFlipInNewestSnapshotIsDetectedByTheTableChecksum() {
    fillWithSnapshots();
    NavigableMap<String, Route> before = table.routes();
    long newest = snapshots().latest().orElseThrow().version();
    byte[] data = readAll(newest);
    data[data.length / 2] ^= 0x01;
    snapshots().save(newest, data);

    restart();

    assertThat(table.routes()).isEqualTo(before);
  }

  @Test
  void snapshotBeyondTheEndOfTheLogIsNotUsed() {
    fillWithSnapshots();
    NavigableMap<String, Route> before = table.routes();
    long beyond = log().nextOffset() + 100;
    snapshots().save(beyond, readAll(snapshots().latest().orElseThrow().version()));

    restart();

    assertThat(table.routes()).isEqualTo(before);
    assertThat(snapshots().list()).extracting(SnapshotInfo::version).doesNotContain(beyond);
  }

  @Test
  void missingHistoryFailsOpenInsteadOfLosingRoutes() {
    fillWithSnapshots();
    for (SnapshotInfo info : snapshots().list()) {
      snapshots().save(info.version(), new byte[] {1, 2, 3});
    }
    table.close();
    table = null;
    assertThatThrownBy(() -> table = RouteTable.open(registry, "catalog"))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("route table 'catalog'")
        .hasMessageContaining("log starts at offset")
        .hasMessageContaining("backup");
  }

  @Test
  void undecodableLogRecordFailsOpenNamingTheOffset() {
    table.put(Route.of("a", "1"));
    long bad = log().append(new byte[] {9, 9, 9});
    table.close();
    table = null;
    assertThatThrownBy(() -> table = RouteTable.open(registry, "catalog"))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("offset " + bad)
        .hasMessageContaining("routing.catalog");
    // The failed open released the table: a fixed log opens again.
    assertThatThrownBy(() -> RouteTable.open(registry, "catalog"))
        .isInstanceOf(StoreCorruptedException.class);
  }

  // ------------------------------------------------------------------ lifecycle

  @Test
  void oneInstancePerTableAndClosedTablesRefuseUse() {
    assertThatThrownBy(() -> RouteTable.open(registry, "catalog"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already open");
    table.close();
    table.close();
    assertThatThrownBy(() -> table.get("x")).isInstanceOf(ClosedException.class);
    assertThatThrownBy(() -> table.put(Route.of("x", "y")))
        .isInstanceOf(ClosedException.class)
        .hasMessageContaining("catalog");
    table = RouteTable.open(registry, "catalog");
  }

  @Test
  void metricsAndHealth() {
    table.put(Route.of("a", "1"));
    assertThat(registry.metrics().getGauges().get("cairn.route-tables.catalog.routes").getValue())
        .isEqualTo(1);
    assertThat(registry.metrics().getGauges().get("cairn.route-tables.catalog.version").getValue())
        .isEqualTo(1L);
    assertThat(registry.healthChecks().runHealthCheck("cairn.route-tables.catalog").isHealthy())
        .isTrue();
    table.close();
    assertThat(registry.metrics().getGauges())
        .doesNotContainKey("cairn.route-tables.catalog.routes");
    table = RouteTable.open(registry, "catalog");
  }

  @Test
  void recoveryReportsProgress() {
    for (int i = 0; i < 13; i++) {
      table.put(Route.of("k" + i, "v"));
    }
    table.close();
    table = null;
    List<String> phases = new CopyOnWriteArrayList<>();
    table =
        RouteTable.open(
            registry,
            "catalog",
            (phase, done, total) -> phases.add(phase + ":" + done + "/" + total));
    assertThat(phases).contains("load_snapshot:0/2", "replay:3/3");
  }

  // ------------------------------------------------------------------ helpers

  /** 17 changes with snapshot-every 5: snapshots at 10 and 15, log kept from 10. */
  private void fillWithSnapshots() {
    for (int i = 0; i < 17; i++) {
      table.put(Route.of("/k/" + (i % 6), "v" + i));
    }
    table.remove("/k/2");
    assertThat(snapshots().list()).extracting(SnapshotInfo::version).containsExactly(10L, 15L);
    assertThat(log().firstOffset()).isEqualTo(10);
  }

  private byte[] readAll(long version) {
    try (var in = snapshots().load(version)) {
      return in.readAllBytes();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
