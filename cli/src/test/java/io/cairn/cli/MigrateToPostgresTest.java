package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.backend.postgres.PostgresTestServer;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.queue.Delivery;
import io.cairn.queue.DurableQueue;
import io.cairn.routing.Route;
import io.cairn.routing.RouteTable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.NavigableMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17's move from SQLite to PostgreSQL with one command ({@code cairn migrate}, as README
 * "Scaling out" shows it) on a real PostgreSQL started by the tests: every store exact, the route
 * table carrying on from the copied log; and queue messages never left behind silently, because a
 * queue on PostgreSQL lives in the server's queue table, which a copy of the stores does not fill
 * (and the other way round).
 */
class MigrateToPostgresTest {
  private static final PostgresTestServer PG = PostgresTestServer.shared();

  @TempDir Path dir;

  /** The service's configuration with its queue and route table on {@code on}. */
  private Path config(String schema, String on) throws Exception {
    Path file = dir.resolve("app-" + on + ".conf");
    Files.writeString(
        file,
        "cairn.backends {\n"
            + "  local { type = sqlite, data-dir = \""
            + dir.resolve("local").toString().replace("\\", "/")
            + "\", durability = normal }\n"
            + "  shared { "
            + PG.backendConfig(schema, "normal")
            + " }\n"
            + "}\n"
            + "cairn.queues.orders { backend = "
            + on
            + ", visibility-timeout = 1h }\n"
            + "cairn.route-tables.catalog { backend = "
            + on
            + " }\n");
    return file;
  }

  private static PersistenceRegistry open(Path config) {
    return PersistenceRegistry.builder().open(ConfigFactory.parseFile(config.toFile()).resolve());
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void sqliteMovesToPostgresWithOneCommandAndTheServiceCarriesOnThere() throws Exception {
    String schema = "migrate_in";
    PG.dropSchema(schema);
    Path local = config(schema, "local");
    NavigableMap<String, Route> routes;
    long routeVersion;
    try (PersistenceRegistry reg = open(local)) {
      StoreContents.populate(reg.backend("local"), 5_000);
      try (RouteTable t = RouteTable.open(reg, "catalog")) {
        for (int i = 0; i < 20; i++) {
          t.put(Route.of("/r/" + i, "host-" + i));
        }
        t.snapshot();
        t.put(Route.of("/r/20", "host-20"));
        t.remove("/r/3");
        routes = t.routes();
        routeVersion = t.version();
      }
      try (DurableQueue<byte[]> q = DurableQueue.openRaw(reg, "orders")) {
        q.enqueue(b("a"));
        q.enqueue(b("b"));
      }
    }

    CliRunner refused =
        CliRunner.run("migrate", "--config", local.toString(), "--from", "local", "--to", "shared");
    assertThat(refused.exitCode()).as(refused.err()).isNotZero();
    assertThat(refused.err())
        .contains("queue 'orders' holds 2 ready")
        .contains("queue table")
        .contains("nothing was written");
    try (PersistenceRegistry reg = open(local)) {
      assertThat(StoreContents.empty(reg.backend("shared"))).as("nothing copied").isTrue();
      try (DurableQueue<byte[]> q = DurableQueue.openRaw(reg, "orders")) {
        for (Delivery<byte[]> d : q.poll(10, Duration.ofSeconds(5))) {
          assertThat(q.ack(d)).isTrue(); // the consumers drain it
        }
      }
    }

    CliRunner moved =
        CliRunner.run("migrate", "--config", local.toString(), "--from", "local", "--to", "shared");
    assertThat(moved.exitCode()).as(moved.out() + moved.err()).isZero();

    Path shared = config(schema, "shared"); // the one-line change: subsystems on `shared`
    try (PersistenceRegistry reg = open(shared)) {
      StorageBackend from = reg.backend("local");
      StorageBackend to = reg.backend("shared");
      StoreContents.assertSame(from, to);
      assertThat(to.verify(Progress.NONE).healthy()).isTrue();
      try (RouteTable t = RouteTable.open(reg, "catalog")) {
        assertThat(t.routes()).isEqualTo(routes);
        assertThat(t.version()).isEqualTo(routeVersion);
        t.put(Route.of("/r/new", "host-new"));
        assertThat(t.version()).isGreaterThan(routeVersion);
      }
      try (DurableQueue<byte[]> q = DurableQueue.openRaw(reg, "orders")) {
        q.enqueue(b("on postgres"));
        Delivery<byte[]> d = q.poll(Duration.ofSeconds(5)).orElseThrow();
        assertThat(new String(d.payload(), StandardCharsets.UTF_8)).isEqualTo("on postgres");
        assertThat(q.ack(d)).isTrue();
      }
    }
  }

  @Test
  void messagesInThePostgresQueueTableAreNotLeftBehindByExportOrMigrate() throws Exception {
    String schema = "migrate_out";
    PG.dropSchema(schema);
    Path shared = config(schema, "shared");
    try (PersistenceRegistry reg = open(shared)) {
      reg.backend("shared").keyValue("kept").put(b("k"), b("v"));
      try (DurableQueue<byte[]> q = DurableQueue.openRaw(reg, "orders")) {
        q.enqueue(b("x"));
      }
    }
    Path file = dir.resolve("shared.cairnexp");
    CliRunner export =
        CliRunner.run(
            "export",
            "--config",
            shared.toString(),
            "--backend",
            "shared",
            "--to",
            file.toString());
    assertThat(export.exitCode()).isNotZero();
    assertThat(export.err()).contains("queue 'orders' holds 1 ready").contains("queue table");
    assertThat(file).doesNotExist();
    CliRunner migrate =
        CliRunner.run(
            "migrate", "--config", shared.toString(), "--from", "shared", "--to", "local");
    assertThat(migrate.exitCode()).isNotZero();
    assertThat(migrate.err()).contains("queue 'orders' holds 1 ready");

    try (PersistenceRegistry reg = open(shared)) {
      assertThat(StoreContents.empty(reg.backend("local"))).isTrue();
      try (DurableQueue<byte[]> q = DurableQueue.openRaw(reg, "orders")) {
        Delivery<byte[]> d = q.poll(Duration.ofSeconds(5)).orElseThrow();
        assertThat(q.ack(d)).isTrue();
      }
    }
    export =
        CliRunner.run(
            "export",
            "--config",
            shared.toString(),
            "--backend",
            "shared",
            "--to",
            file.toString());
    assertThat(export.exitCode()).as(export.err()).isZero();
    assertThat(file).exists();
  }
}
