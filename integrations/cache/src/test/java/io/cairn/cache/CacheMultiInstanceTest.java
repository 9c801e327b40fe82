package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.backend.postgres.PostgresTestServer;
import io.cairn.persistence.PersistenceRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three instances of one cache over one PostgreSQL schema (three registries, each with its own pool
 * and listening connection, in one JVM): a write, invalidate, tag invalidation or clear on one
 * drops the copies in the others' L1 ({@link RemoteInvalidation}), and this keeps working across a
 * server restart. L1 copies would otherwise live for the whole test (ttl 1h).
 */
class CacheMultiInstanceTest {
  private static final Duration BOUND = Duration.ofSeconds(30);

  @TempDir Path dir;
  private final List<PersistenceRegistry> registries = new ArrayList<>();
  private final List<TieredCache<String, byte[]>> caches = new ArrayList<>();

  @AfterEach
  void closeAll() {
    caches.forEach(TieredCache::close);
    registries.forEach(PersistenceRegistry::close);
  }

  private List<TieredCache<String, byte[]>> open(String schema) {
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
                          + "cairn.caches.sessions { backend = main, ttl = 1h,"
                          + " l2 { retry-initial = 100ms, retry-max = 500ms } }"));
      registries.add(r);
      caches.add(TieredCache.openRaw(r, "sessions"));
    }
    for (PersistenceRegistry r : registries) {
      try {
        // the first resync clears L1: let it pass before the test fills L1
        PostgresTestServer.awaitNotificationsQuiet(r.backend("main"), BOUND);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
    return caches;
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String s(byte[] v) {
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }

  private static void eventually(String what, Supplier<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (!condition.get()) {
      assertThat(System.nanoTime()).as(what + " within " + BOUND).isLessThan(deadline);
      Thread.sleep(10);
    }
  }

  private static byte[] fail(String key) {
    throw new AssertionError("loader called for " + key);
  }

  @Test
  void aWriteOnOneInstanceDropsTheOthersL1Copies() throws Exception {
    List<TieredCache<String, byte[]>> c = open("cache_multi");
    c.get(0).put("k", b("v1"));
    c.get(0).put("tagged", b("t1"), List.of("team"));
    for (TieredCache<String, byte[]> other : c.subList(1, 3)) {
      assertThat(s(other.get("k", CacheMultiInstanceTest::fail))).isEqualTo("v1"); // now in L1
      assertThat(s(other.get("tagged", CacheMultiInstanceTest::fail))).isEqualTo("t1");
    }

    c.get(0).put("k", b("v2"));
    for (TieredCache<String, byte[]> other : c.subList(1, 3)) {
      eventually("the new value is served", () -> "v2".equals(s(other.getIfPresent("k"))));
    }

    c.get(1).invalidate("k");
    eventually("A misses", () -> c.get(0).getIfPresent("k") == null);
    eventually("C misses", () -> c.get(2).getIfPresent("k") == null);

    c.get(2).invalidateTag("team");
    eventually("A drops the tagged entry", () -> c.get(0).getIfPresent("tagged") == null);
    eventually("B drops the tagged entry", () -> c.get(1).getIfPresent("tagged") == null);
    // a tagged entry written after the bump, by an instance that had read the old generation
    c.get(1).put("tagged", b("t2"), List.of("team"));
    eventually(
        "A serves the new tagged entry", () -> "t2".equals(s(c.get(0).getIfPresent("tagged"))));
    c.get(0).invalidateTag("team"); // A bumps over B's bump: the stored generation, not A's memory
    eventually("B drops it again", () -> c.get(1).getIfPresent("tagged") == null);
    assertThat(c.get(2).getIfPresent("tagged")).isNull();

    c.get(0).put("x", b("1"));
    c.get(1).get("x", CacheMultiInstanceTest::fail);
    c.get(2).invalidateAll();
    eventually("B's L1 is cleared", () -> c.get(1).l1Size() == 0);
  }

  @Test
  void invalidationKeepsWorkingAcrossAServerRestart() throws Exception {
    PostgresTestServer pg = PostgresTestServer.shared();
    Assumptions.assumeTrue(pg.managed(), "the server at -DpgTestUrl is not restarted by tests");
    List<TieredCache<String, byte[]>> c = open("cache_restart");
    // written by B itself, so that no notice of it can drop B's L1 copy before the outage
    c.get(1).put("k", b("v1"));
    assertThat(s(c.get(1).getIfPresent("k"))).isEqualTo("v1");

    pg.stop();
    try {
      c.get(0).put("k", b("during")); // the tier degrades (named in stats and health), L1 takes it
      assertThat(c.get(0).isDegraded()).isTrue();
      assertThat(c.get(0).stats().degraded()).isTrue();
      assertThat(s(c.get(1).getIfPresent("k"))).as("B still serves from L1").isEqualTo("v1");
    } finally {
      pg.start();
    }
    // B resyncs after its listening connection is back: its L1 is cleared (the outage may have
    // hidden writes from it); the shared tier still holds v1, A's write during the outage reached
    // no shared tier
    eventually("B's L1 is cleared by the resync", () -> c.get(1).l1Size() == 0);
    eventually(
        "A's tier is back",
        () -> {
          c.get(0).put("k", b("after"));
          return !c.get(0).isDegraded();
        });
    eventually(
        "B serves the value written after the outage",
        () -> "after".equals(s(c.get(1).getIfPresent("k"))));
    eventually(
        "C serves it too",
        () -> "after".equals(s(c.get(2).get("k", CacheMultiInstanceTest::fail))));
  }
}
