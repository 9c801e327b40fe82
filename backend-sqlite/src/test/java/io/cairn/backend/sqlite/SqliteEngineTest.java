package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.Durability;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite engine's own surface beside the TCK: its metric names and their removal at close, the
 * writer's own transactions when their work fails, the checkpoint's target rules, writes after
 * close.
 */
class SqliteEngineTest {
  @TempDir Path dir;

  private static final StoreId KV = new StoreId(StoreKind.KEY_VALUE, "ns");

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private TestBackends.Direct open(MetricRegistry metrics) {
    return TestBackends.Direct.open(
        BackendContext.builder("main", SqliteBackendProvider.TYPE)
            .config(
                ConfigFactory.parseString("sweeper-interval = 0s, open-check = header")
                    .withFallback(ConfigFactory.load().getConfig("cairn.backend-defaults.sqlite")))
            .dataDir(dir.resolve("data"))
            .durability(Durability.NORMAL)
            .metrics(metrics)
            .build());
  }

  @Test
  void engineMetricsAreNamedUnderTheBackendAndRemovedAtClose() {
    MetricRegistry metrics = new MetricRegistry();
    String prefix = "cairn.backends.main.sqlite.";
    try (TestBackends.Direct be = open(metrics)) {
      be.keyValue("ns").put(b("k"), new byte[10_000]);
      Map<String, ?> gauges = metrics.getGauges();
      assertThat(gauges.keySet())
          .contains(
              prefix + "db-bytes",
              prefix + "wal-bytes",
              prefix + "page-count",
              prefix + "freelist-pages",
              prefix + "page-size");
      assertThat((Long) metrics.getGauges().get(prefix + "page-size").getValue()).isEqualTo(4096L);
      assertThat((Long) metrics.getGauges().get(prefix + "page-count").getValue()).isPositive();
      assertThat((Long) metrics.getGauges().get(prefix + "wal-bytes").getValue()).isPositive();
      assertThat(metrics.getHistograms().get(prefix + "commit-batch-size").getCount()).isPositive();
      assertThat(be.engine().toString()).contains("main");
    }
    assertThat(metrics.getNames()).noneMatch(n -> n.startsWith(prefix));
    assertThat((Long) cachedGaugeAfterClose()).isEqualTo(-1L);
  }

  /** A page-count gauge read after its engine closed answers -1 (the read fails), never throws. */
  private Object cachedGaugeAfterClose() {
    MetricRegistry metrics = new MetricRegistry();
    TestBackends.Direct be = open(metrics);
    var gauge = metrics.getGauges().get("cairn.backends.main.sqlite.page-count");
    be.close();
    return gauge.getValue();
  }

  @Test
  void anOwnTransactionWhoseWorkFailsRollsBackWholeAndWritesGoOn() {
    try (TestBackends.Direct be = open(new MetricRegistry())) {
      be.keyValue("ns").put(b("before"), b("v"));
      long rows = rows(be);
      Writer w = be.writer();
      assertThatThrownBy(
              () ->
                  w.ownTransaction(
                      "test write",
                      "ns",
                      true,
                      s -> {
                        s.conn().execOnce("DELETE FROM rec");
                        throw new SQLException("a failing statement", "HY000", 1);
                      }))
          .isInstanceOf(PersistenceException.class)
          .hasMessageContaining("test write");
      assertThat(rows(be)).as("the delete rolled back").isEqualTo(rows);
      IllegalStateException bug = new IllegalStateException("a bug in the work");
      assertThatThrownBy(
              () ->
                  w.ownTransaction(
                      "test write",
                      "ns",
                      false,
                      s -> {
                        s.conn().execOnce("DELETE FROM rec");
                        throw bug;
                      }))
          .isSameAs(bug);
      assertThat(rows(be)).as("the delete rolled back").isEqualTo(rows);
      assertThatThrownBy(
              () ->
                  w.exclusive(
                      "test maintenance",
                      s -> {
                        throw new SQLException("a failing pragma", "HY000", 1);
                      }))
          .isInstanceOf(PersistenceException.class)
          .hasMessageContaining("test maintenance");
      be.keyValue("ns").put(b("after"), b("v"));
      assertThat(be.keyValue("ns").get(b("before"))).isEqualTo(b("v"));
      assertThat(be.keyValue("ns").get(b("after"))).isEqualTo(b("v"));
      long level = w.exclusive("read", s -> s.conn().queryLong("PRAGMA synchronous"));
      assertThat(level).as("NORMAL again after the failed FULL transaction").isEqualTo(1);
    }
  }

  /**
   * A group-commit write whose work fails fails only its caller, with its own exception (a bug) or
   * a translated one (an engine error), and the writer goes on; a write issued from inside a
   * write's own work is refused instead of waiting for itself.
   */
  @Test
  void aFailingGroupWriteFailsItsCallerAndAReentrantWriteIsRefused() {
    try (TestBackends.Direct be = open(new MetricRegistry())) {
      Writer w = be.writer();
      IllegalStateException bug = new IllegalStateException("a bug in the work");
      assertThatThrownBy(
              () ->
                  w.submit(
                      true,
                      "test put",
                      "ns",
                      s -> {
                        throw bug;
                      }))
          .isSameAs(bug);
      assertThatThrownBy(
              () ->
                  w.submit(
                      true,
                      "test put",
                      "ns",
                      s -> {
                        throw new SQLException("a failing statement", "HY000", 1);
                      }))
          .isInstanceOf(PersistenceException.class)
          .hasMessageContaining("test put");
      assertThatThrownBy(
              () -> w.exclusive("outer", s -> w.submit(true, "inner put", "ns", inner -> null)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("from inside a write on the same SQLite writer");
      be.keyValue("ns").put(b("after"), b("v"));
      assertThat(be.keyValue("ns").get(b("after"))).isEqualTo(b("v"));
    }
  }

  private static long rows(TestBackends.Direct be) {
    return be.writer().exclusive("count", s -> s.conn().queryLong("SELECT count(*) FROM rec"));
  }

  @Test
  void aCheckpointNeedsAnEmptyOrAbsentTargetAndCopiesEverything() throws Exception {
    try (TestBackends.Direct be = open(new MetricRegistry())) {
      be.keyValue("ns").put(b("k"), b("v"));
      Path busy = Files.createDirectories(dir.resolve("busy"));
      Files.writeString(busy.resolve("other"), "x");
      assertThatThrownBy(() -> be.engine().checkpoint(busy, Progress.NONE))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("not empty");
      Path empty = Files.createDirectories(dir.resolve("empty"));
      be.engine().checkpoint(empty, Progress.NONE);
      assertThat(Files.size(empty.resolve("cairn.db"))).isPositive();
    }
  }

  @Test
  void aRowOfAKindNoCairnWritesIsNamedWhenTheStoresAreListed() {
    try (TestBackends.Direct be = open(new MetricRegistry())) {
      be.writer()
          .exclusive(
              "damage",
              s -> {
                s.conn().execOnce("INSERT INTO rec VALUES (7, 'x', x'00', x'00')");
                return null;
              });
      assertThatThrownBy(() -> be.engine().stores())
          .isInstanceOf(io.cairn.persistence.StoreCorruptedException.class)
          .hasMessageContaining("store kind 7");
    }
  }

  @Test
  void writesAfterCloseAreRefusedAsClosed() {
    TestBackends.Direct be = open(new MetricRegistry());
    SqliteEngine engine = be.engine();
    be.close();
    StorageEngine.Write w = new StorageEngine.Write(KV, b("k"), b("v"));
    assertThatThrownBy(() -> engine.write(List.of(w), Durability.NORMAL))
        .isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> engine.write(List.of(w), Durability.FULL))
        .isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> engine.compact(Progress.NONE))
        .isInstanceOf(BackendClosedException.class);
    engine.close(); // idempotent
  }

  /**
   * Point gets bind only the key on a statement written for their store; a name that cannot be
   * written into SQL as it is (a quote, non-ASCII) is read with bound parameters. Each store reads
   * its own record, also once more stores were read than a connection keeps statements for.
   */
  @Test
  void pointGetsReadTheirOwnStoreWhateverItsNameAndHowManyStores() {
    try (TestBackends.Direct be = open(new MetricRegistry())) {
      SqliteEngine engine = be.engine();
      List<String> names = new java.util.ArrayList<>(List.of("a", "a'", "a' OR '1'='1", "café"));
      for (int i = 0; i < Conn.POINT_STATEMENTS + 8; i++) {
        names.add("s" + i);
      }
      for (String name : names) {
        StoreId id = new StoreId(StoreKind.KEY_VALUE, name);
        engine.write(List.of(new StorageEngine.Write(id, b("k"), b(name))), Durability.NORMAL);
      }
      for (int pass = 0; pass < 2; pass++) {
        for (String name : names) {
          StoreId id = new StoreId(StoreKind.KEY_VALUE, name);
          assertThat(engine.get(id, b("k"))).as(name).isEqualTo(b(name));
          assertThat(engine.get(id, b("other"))).as(name).isNull();
          assertThat(engine.get(new StoreId(StoreKind.LOG, name), b("k"))).as(name).isNull();
        }
      }
    }
  }
}
