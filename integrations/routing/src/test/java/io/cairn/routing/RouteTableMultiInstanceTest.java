package io.cairn.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.typesafe.config.ConfigFactory;
import io.cairn.backend.postgres.PostgresTestServer;
import io.cairn.backend.postgres.PostgresUnavailableException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.VersionConflictException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three instances of one route table on one PostgreSQL schema (three registries, each with its own
 * pool and listening connection, in one JVM): a change on one is seen by the others through change
 * notifications (the periodic check is switched off here, {@code follow-interval = 0}, so only
 * notifications and resyncs can carry it), writes from all three converge, compare-and-set is exact
 * across instances, and following survives a server restart.
 */
class RouteTableMultiInstanceTest {
  /** Generous for a loaded machine; the notification normally takes milliseconds. */
  private static final Duration BOUND = Duration.ofSeconds(30);

  @TempDir Path dir;
  private final List<PersistenceRegistry> registries = new ArrayList<>();
  private final List<RouteTable> tables = new ArrayList<>();

  @AfterEach
  void closeAll() {
    tables.forEach(RouteTable::close);
    registries.forEach(PersistenceRegistry::close);
  }

  private List<RouteTable> open(String schema, String follow) {
    PostgresTestServer pg = PostgresTestServer.shared();
    pg.dropSchema(schema);
    for (int i = 0; i < 3; i++) {
      PersistenceRegistry r =
          PersistenceRegistry.builder()
              .baseDirectory(dir)
              .open(
                  ConfigFactory.parseString(
                      "cairn.backends.main { "
                          + pg.backendConfig(schema, "normal")
                          + ", connect-timeout = 2s, pool-size = 4 }\n"
                          + "cairn.route-tables.catalog { backend = main, snapshot-every = 50,"
                          + " follow-interval = "
                          + follow
                          + " }"));
      registries.add(r);
      tables.add(RouteTable.open(r, "catalog"));
    }
    return tables;
  }

  private static void eventually(String what, Supplier<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (!condition.get()) {
      assertThat(System.nanoTime()).as(what + " within " + BOUND).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  @Test
  void aRouteAddedOnOneInstanceResolvesOnTheOtherTwo() throws Exception {
    List<RouteTable> t = open("routing_follow", "0s");
    List<RouteChange> seenByC = new CopyOnWriteArrayList<>();
    t.get(2).addListener(seenByC::add);

    Route stored = t.get(0).put(Route.of("eu/", "10.0.0.1:80"));
    eventually("B resolves the route", () -> t.get(1).resolve("eu/paris").isPresent());
    eventually("C resolves the route", () -> t.get(2).resolve("eu/paris").isPresent());
    assertThat(t.get(1).resolve("eu/paris")).contains(stored);
    assertThat(t.get(2).version()).isEqualTo(stored.version());
    assertThat(seenByC).extracting(RouteChange::current).containsExactly(stored);

    t.get(1).remove("eu/");
    eventually("A sees the removal", () -> t.get(0).get("eu/").isEmpty());
    eventually("C sees the removal", () -> t.get(2).get("eu/").isEmpty());
  }

  @Test
  void concurrentWritersOnAllInstancesConvergeAndCompareAndSetIsExact() throws Exception {
    List<RouteTable> t = open("routing_converge", "0s");
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        RouteTable mine = t.get(i);
        int id = i;
        done.add(
            pool.submit(
                () -> {
                  for (int n = 0; n < 40; n++) {
                    mine.put(Route.of("k" + (n % 10), "i" + id + "-" + n));
                    if (n % 13 == 0) {
                      mine.putAll(List.of(Route.of("batch" + id, "x" + n), Route.of("b", "" + n)));
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get();
      }
      // compare-and-set on a key none of them has: exactly one of three wins
      List<Future<Boolean>> cas = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        RouteTable mine = t.get(i);
        int id = i;
        cas.add(
            pool.submit(
                () -> {
                  try {
                    mine.put(Route.of("cas", "winner-" + id), 0);
                    return true;
                  } catch (VersionConflictException e) {
                    return false;
                  }
                }));
      }
      int winners = 0;
      for (Future<Boolean> f : cas) {
        winners += f.get() ? 1 : 0;
      }
      assertThat(winners).as("compare-and-set winners across instances").isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
    long end = registries.get(0).backend("main").log("routing.catalog").nextOffset();
    for (RouteTable table : t) {
      eventually("instance caught up to " + end, () -> table.version() == end);
    }
    assertThat(t.get(1).routes()).isEqualTo(t.get(0).routes());
    assertThat(t.get(2).routes()).isEqualTo(t.get(0).routes());
    assertThat(t.get(0).get("cas")).isPresent();
    // each table's state is the log replayed: a fresh instance agrees
    t.get(0).close();
    tables.remove(0);
    RouteTable fresh = RouteTable.open(registries.get(0), "catalog");
    tables.add(fresh);
    assertThat(fresh.routes()).isEqualTo(t.get(1).routes());
  }

  @Test
  void followingSurvivesAServerRestart() throws Exception {
    PostgresTestServer pg = PostgresTestServer.shared();
    Assumptions.assumeTrue(pg.managed(), "the server at -DpgTestUrl is not restarted by tests");
    List<RouteTable> t = open("routing_restart", "0s");
    Route before = t.get(0).put(Route.of("before/", "a"));
    eventually("C has the first route", () -> t.get(2).get("before/").isPresent());

    pg.stop();
    try {
      Throwable e = catchThrowable(() -> t.get(1).put(Route.of("during/", "b")));
      assertThat(e)
          .as("a write during the outage fails retriably")
          .isInstanceOf(PostgresUnavailableException.class);
      assertThat(((PostgresUnavailableException) e).retriable()).isTrue();
      assertThat(t.get(2).resolve("before/x"))
          .as("reads keep answering from memory")
          .contains(before);
    } finally {
      pg.start();
    }
    // written as soon as the server takes it: the others' listeners may still be reconnecting,
    // so the notification may be lost; the resync after their reconnect carries it
    Route after = null;
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (after == null) {
      try {
        after = t.get(1).put(Route.of("after/", "c"));
      } catch (PostgresUnavailableException e) {
        assertThat(System.nanoTime()).isLessThan(deadline);
        Thread.sleep(100);
      }
    }
    Optional<Route> expected = Optional.of(after);
    eventually(
        "A sees the change made after the restart", () -> t.get(0).get("after/").equals(expected));
    eventually(
        "C sees the change made after the restart", () -> t.get(2).get("after/").equals(expected));
    assertThat(t.get(0).get("during/")).isEmpty();
    Route later = t.get(2).put(Route.of("later/", "d"));
    eventually("B follows notifications again", () -> t.get(1).get("later/").isPresent());
    assertThat(t.get(1).get("later/")).contains(later);
  }
}
