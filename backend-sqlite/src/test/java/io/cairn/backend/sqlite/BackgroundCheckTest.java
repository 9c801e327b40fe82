package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.EventType;
import io.cairn.persistence.spi.Events;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * open-check = background (the default): open reads a constant number of pages, so a file with a
 * damaged page deep inside opens, and the check after open names the damage (health, event, log).
 */
class BackgroundCheckTest {
  @TempDir Path dir;

  private final List<Map<String, ?>> corruptionEvents = new CopyOnWriteArrayList<>();

  private final Events recording =
      new Events() {
        @Override
        public boolean enabled() {
          return true;
        }

        @Override
        public void emit(EventType type, String backend, Map<String, ?> fields) {
          Events.check(fields);
          if (type == EventType.CORRUPTION) {
            corruptionEvents.add(fields);
          }
        }
      };

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private Path populate() throws Exception {
    return CorruptionTest.populate(dir);
  }

  private TestBackends.Direct open(String body) {
    return TestBackends.Direct.open(
        BackendContext.builder("main", "sqlite")
            .config(
                ConfigFactory.parseString(body)
                    .withFallback(ConfigFactory.load().getConfig("cairn.backend-defaults.sqlite")))
            .dataDir(dir)
            .durability(Durability.NORMAL)
            .events(recording)
            .build());
  }

  @Test
  void damagedDeepPageOpensByDefaultAndTheBackgroundCheckReportsIt() throws Exception {
    Path db = populate();
    CorruptionTest.garbleMiddlePages(db);
    // the default open does not read the damaged pages (open-check = quick would refuse here)
    try (TestBackends.Direct be = open("")) {
      BackgroundCheck check = be.backgroundCheck();
      assertThat(check).isNotNull();
      assertThat(check.await(60_000)).isTrue();
      assertThat(check.finished()).isTrue();
      assertThat(check.problem())
          .contains(db.toString())
          .contains("background check")
          .contains("cairn verify");
      assertThat(be.health().isHealthy()).isFalse();
      assertThat(be.health().getMessage()).contains(db.toString());
      assertThat(corruptionEvents).hasSize(1);
      assertThat(corruptionEvents.get(0).get("detected-by")).isEqualTo("background-check");
      assertThat(corruptionEvents.get(0).get("file")).isEqualTo(db.toString());
      assertThat(corruptionEvents.get(0).get("duration-ms")).isInstanceOf(Long.class);
    }
    // nothing was quarantined: the file stays where it was, for verify and a restore
    assertThat(db).exists();
  }

  @Test
  void soundFileStaysHealthy() throws Exception {
    populate();
    try (TestBackends.Direct be = open("")) {
      BackgroundCheck check = be.backgroundCheck();
      assertThat(check.await(60_000)).isTrue();
      assertThat(check.finished()).isTrue();
      assertThat(check.problem()).isNull();
      assertThat(be.health().isHealthy()).isTrue();
      assertThat(be.keyValue("data").get(b("key-00001"))).hasSize(700);
    }
    assertThat(corruptionEvents).isEmpty();
  }

  @Test
  void headerAndQuickRunNoBackgroundCheck() throws Exception {
    populate();
    try (TestBackends.Direct be = open("open-check = header")) {
      assertThat(be.backgroundCheck()).isNull();
    }
    try (TestBackends.Direct be = open("open-check = quick")) {
      assertThat(be.backgroundCheck()).isNull();
    }
  }

  @Test
  void closeRightAfterOpenStopsTheCheck() throws Exception {
    populate();
    TestBackends.Direct be = open("");
    BackgroundCheck check = be.backgroundCheck();
    be.close();
    // close waited for the check's thread: no connection of it is left open
    assertThat(check.await(0)).isTrue();
    assertThat(check.problem()).isNull();
    assertThat(corruptionEvents).isEmpty();
  }

  /**
   * Issue 15: the check starts {@link BackgroundCheck#START_DELAY} after open, so a backend closed
   * sooner (a CLI command, a test, a service that fails to start) never opens the check's
   * connection nor reads pages for it; one that stays open is still checked (the tests above).
   */
  @Test
  void closeWithinTheStartDelayOpensNoConnection() throws Exception {
    populate();
    TestBackends.Direct be = open("");
    BackgroundCheck check = be.backgroundCheck();
    Thread.sleep(200);
    be.close();
    assertThat(check.await(0)).isTrue();
    assertThat(check.opened()).isFalse();
    assertThat(check.finished()).isFalse();
    assertThat(corruptionEvents).isEmpty();
  }
}
