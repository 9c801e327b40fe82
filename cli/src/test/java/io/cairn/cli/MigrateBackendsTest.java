package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Importer;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.queue.Delivery;
import io.cairn.queue.DurableQueue;
import io.cairn.routing.Route;
import io.cairn.routing.RouteTable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13's migration check: SQLite to RocksDB to SQLite of 100,000 KV entries (with TTLs and
 * versions; {@code -DmigrateEntries=N} to change), logs with append times and snapshots, every byte
 * equal afterwards; then a durable queue and a route table opened on the migrated backend carry on
 * where they stopped.
 */
class MigrateBackendsTest {
  private static final int ENTRIES = Integer.getInteger("migrateEntries", 100_000);

  @TempDir Path dir;

  private Config config(String subsystemsOn) {
    return ConfigFactory.parseString(
        "cairn.backends {\n"
            + "  s1 { type = sqlite, data-dir = s1, durability = normal }\n"
            + "  r { type = rocksdb, data-dir = r, durability = normal }\n"
            + "  s2 { type = sqlite, data-dir = s2, durability = normal }\n"
            + "}\n"
            + "cairn.queues.orders { backend = "
            + subsystemsOn
            + ", visibility-timeout = 1h }\n"
            + "cairn.route-tables.catalog { backend = "
            + subsystemsOn
            + " }\n");
  }

  private PersistenceRegistry open(String subsystemsOn) {
    return PersistenceRegistry.builder().baseDirectory(dir).open(config(subsystemsOn));
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void sqliteToRocksDbToSqliteIsExactAndSubsystemsCarryOn() throws Exception {
    NavigableMap<String, Route> routes;
    long routeVersion;
    try (PersistenceRegistry reg = open("s1")) {
      StorageBackend s1 = reg.backend("s1");
      StoreContents.populate(s1, ENTRIES);
      try (DurableQueue<byte[]> q = DurableQueue.openRaw(reg, "orders")) {
        for (int i = 0; i < 10; i++) {
          q.enqueue(b("msg-" + i));
        }
        for (Delivery<byte[]> d : q.poll(4, Duration.ofSeconds(5))) {
          assertThat(q.ack(d)).isTrue();
        }
      }
      try (RouteTable t = RouteTable.open(reg, "catalog")) {
        for (int i = 0; i < 30; i++) {
          t.put(Route.of("/r/" + i, "host-" + i));
        }
        t.snapshot();
        for (int i = 30; i < 35; i++) {
          t.put(Route.of("/r/" + i, "host-" + i));
        }
        t.remove("/r/3");
        routes = t.routes();
        routeVersion = t.version();
      }
    }
    try (PersistenceRegistry reg = open("s2")) {
      StorageBackend s1 = reg.backend("s1");
      StorageBackend r = reg.backend("r");
      StorageBackend s2 = reg.backend("s2");
      assertThat(r.extension(Importer.class)).as("RocksDB's Importer").isPresent();
      assertThat(s2.extension(Importer.class)).as("SQLite's Importer").isPresent();
      Transfer.Result there = Transfer.migrate(s1, r, Progress.NONE);
      assertThat(there.verified()).as("%s", there.checks()).isTrue();
      assertThat(there.entries()).isGreaterThan(ENTRIES * 9L / 10);
      Transfer.Result back = Transfer.migrate(r, s2, Progress.NONE);
      assertThat(back.verified()).as("%s", back.checks()).isTrue();
      StoreContents.assertSame(s1, r);
      StoreContents.assertSame(s1, s2);
      assertThat(r.verify(Progress.NONE).healthy()).isTrue();
      assertThat(s2.verify(Progress.NONE).healthy()).isTrue();
    }
    try (PersistenceRegistry reg = open("s2")) {
      try (DurableQueue<byte[]> q = DurableQueue.openRaw(reg, "orders")) {
        List<String> left = new ArrayList<>();
        for (Delivery<byte[]> d : q.poll(10, Duration.ofSeconds(5))) {
          left.add(new String(d.payload(), StandardCharsets.UTF_8));
          q.ack(d);
        }
        assertThat(left).containsExactly("msg-4", "msg-5", "msg-6", "msg-7", "msg-8", "msg-9");
        q.enqueue(b("after"));
        assertThat(q.poll(Duration.ofSeconds(5)).map(d -> new String(d.payload())))
            .contains("after");
      }
      try (RouteTable t = RouteTable.open(reg, "catalog")) {
        assertThat(t.routes()).isEqualTo(routes);
        assertThat(t.version()).isEqualTo(routeVersion);
        t.put(Route.of("/r/new", "host-new"));
        assertThat(t.version()).isGreaterThan(routeVersion);
      }
    }
  }
}
