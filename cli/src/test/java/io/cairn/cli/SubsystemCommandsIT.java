package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.cache.TieredCache;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.queue.Delivery;
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
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code cairn queue}, {@code cache}, {@code route} and {@code rebuild} through the real shaded jar
 * in a child JVM, on SQLite and RocksDB: state written by the subsystems in this JVM, then read,
 * changed and checked by the commands, their {@code --json} parsed.
 */
class SubsystemCommandsIT {
  @TempDir Path dir;

  private Path config(String type) throws IOException {
    Path data = dir.resolve("data");
    String text =
        "cairn.backends.b { type = "
            + type
            + ", durability = normal, data-dir = \""
            + data
            + "\" }\n"
            + "cairn.queues.q { backend = b, visibility-timeout = 1h, max-attempts = 3 }\n"
            + "cairn.caches.c { backend = b, ttl = 1h }\n"
            + "cairn.route-tables.t { backend = b, snapshot-every = 100 }\n";
    Path f = dir.resolve("app.conf");
    Files.writeString(f, text);
    return f;
  }

  private static Config json(JarRunner r) {
    assertThat(r.exitCode()).as(r.all()).isZero();
    return r.json();
  }

  private JarRunner cairn(String... args) {
    return JarRunner.run(dir, Map.of(), List.of(), args);
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void queueCacheRouteAndRebuildCommands(String type) throws IOException {
    Path conf = config(type);
    String c = conf.toString();
    try (PersistenceRegistry r = PersistenceRegistry.open(ConfigFactory.parseFile(conf.toFile()));
        DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8());
        TieredCache<String, byte[]> cache = TieredCache.openRaw(r, "c");
        RouteTable t = RouteTable.open(r, "t")) {
      q.enqueueAll(List.of("m0", "m1", "m2", "m3"));
      List<Delivery<String>> ds = q.poll(2, Duration.ZERO);
      assertThat(q.deadLetter(ds.get(0), "poison")).isTrue(); // m0 dead, m1 leased
      for (int i = 0; i < 5; i++) {
        cache.put("k" + i, ("v" + i).getBytes(StandardCharsets.UTF_8));
      }
      t.put(Route.of("/api", "api-1"));
      t.put(Route.builder("/static").target("cdn-a", 2).target("cdn-b", 1).build());
    }

    // queue list / peek / dead-letters: reads only
    Config list = json(cairn("queue", "list", "--json", "-c", c));
    Config row = list.getConfigList("queues").get(0);
    assertThat(row.getString("queue")).isEqualTo("q");
    assertThat(row.getLong("pending")).isEqualTo(2);
    assertThat(row.getLong("leased")).isEqualTo(1);
    assertThat(row.getLong("deadLetters")).isEqualTo(1);

    JarRunner peekText = cairn("queue", "peek", "q", "-c", c);
    assertThat(peekText.exitCode()).as(peekText.all()).isZero();
    assertThat(peekText.out()).contains("2 pending").doesNotContain("m2");
    Config peekSizes = json(cairn("queue", "peek", "q", "--json", "-c", c));
    assertThat(peekSizes.getConfigList("next")).hasSize(2);
    assertThat(peekSizes.getConfigList("next").get(0).hasPath("payload")).isFalse();
    assertThat(peekSizes.getConfigList("next").get(0).getInt("payloadBytes")).isEqualTo(2);
    Config peek = json(cairn("queue", "peek", "q", "--json", "--show-payloads", "-c", c));
    assertThat(peek.getConfigList("next"))
        .as("peeking twice took nothing")
        .extracting(m -> m.getString("payload"))
        .containsExactly("m2", "m3");

    Config dead = json(cairn("queue", "dead-letters", "q", "--json", "-c", c));
    assertThat(dead.getConfigList("deadLetters"))
        .singleElement()
        .satisfies(d -> assertThat(d.getString("reason")).isEqualTo("poison"));

    // redrive and purge need --yes
    JarRunner refused = cairn("queue", "redrive", "q", "--all", "-c", c);
    assertThat(refused.exitCode()).isEqualTo(2);
    assertThat(refused.err()).contains("--yes");
    Config redriven = json(cairn("queue", "redrive", "q", "--all", "--yes", "--json", "-c", c));
    assertThat(redriven.getLong("redriven")).isEqualTo(1);
    Config afterRedrive = json(cairn("queue", "peek", "q", "--json", "--show-payloads", "-c", c));
    assertThat(afterRedrive.getLong("deadLetters")).isZero();
    assertThat(afterRedrive.getConfigList("next"))
        .extracting(m -> m.getString("payload"))
        .containsExactly("m2", "m3", "m0");

    Config rebuiltQueue = json(cairn("rebuild", "--queue", "q", "--json", "-c", c));
    assertThat(rebuiltQueue.getBoolean("consistent")).isTrue();

    Config purged =
        json(
            cairn(
                "queue", "purge", "q", "--messages", "--dead-letters", "--yes", "--json", "-c", c));
    assertThat(purged.getLong("messagesPurged")).as("m1 leased, m2, m3, m0 redriven").isEqualTo(4);
    Config empty = json(cairn("queue", "peek", "q", "--json", "-c", c));
    assertThat(empty.getLong("pending") + empty.getLong("leased")).isZero();
    assertThat(empty.getConfigList("next")).isEmpty();

    // cache stats / clear
    Config stats = json(cairn("cache", "stats", "c", "--json", "-c", c));
    assertThat(stats.getConfigList("tiers"))
        .singleElement()
        .satisfies(t -> assertThat(t.getLong("entries")).isEqualTo(5));
    assertThat(cairn("cache", "clear", "c", "-c", c).exitCode()).as("needs --yes").isEqualTo(2);
    Config cleared = json(cairn("cache", "clear", "c", "--yes", "--json", "-c", c));
    assertThat(cleared.getConfigList("before.tiers").get(0).getLong("entries")).isEqualTo(5);
    assertThat(cleared.getConfigList("after.tiers").get(0).getLong("entries")).isZero();

    // route dump / rebuild
    Config routes = json(cairn("route", "dump", "t", "--json", "-c", c));
    assertThat(routes.getLong("version")).isEqualTo(2);
    assertThat(routes.getConfigList("routes"))
        .extracting(x -> x.getString("key"))
        .containsExactly("/api", "/static");
    assertThat(routes.getConfigList("routes").get(1).getConfigList("targets"))
        .extracting(x -> x.getString("address") + "*" + x.getInt("weight"))
        .containsExactly("cdn-a*2", "cdn-b*1");
    Config rebuilt = json(cairn("rebuild", "--route-table", "t", "--json", "-c", c));
    assertThat(rebuilt.getLong("routes")).isEqualTo(2);
    assertThat(rebuilt.getBoolean("snapshotWritten")).isTrue();
    assertThat(rebuilt.getStringList("mismatches")).isEmpty();
    JarRunner again = cairn("rebuild", "--route-table", "t", "-c", c);
    assertThat(again.exitCode()).as(again.all()).isZero();
    assertThat(again.out()).as("idempotent").contains("already matched");
  }
}
