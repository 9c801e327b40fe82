package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.ConfigFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Profiles, per-cache overrides and validation of {@code cairn.caches}. */
class CacheConfigTest {
  @TempDir Path dir;

  private Config load(String text) {
    return ConfigFiles.load(dir, text);
  }

  private static List<ConfigProblem> validate(Config root) {
    return ConfigFiles.validate(new CacheConfigValidator(), root);
  }

  @Test
  void validatorIsRegisteredForServiceLoader() {
    assertThat(ConfigFiles.registered(CacheConfigValidator.class)).isTrue();
  }

  @Test
  void profilesSetDefaultsAndCachesOverrideAnyKey() throws Exception {
    Config root =
        load(
            "cairn.backends.fast { type = memory }\n"
                + "cairn.caches.sessions { backend = fast, profile = low-latency, ttl = 5m }\n"
                + "cairn.caches.small { profile = memory-constrained, l1.expire-after-access = 1m }\n"
                + "cairn.caches.plain {}\n");
    assertThat(validate(root)).isEmpty();
    List<ConfigProblem> p = new ArrayList<>();
    CacheSettings sessions = CacheSettings.read(root, "sessions", p);
    assertThat(sessions.l1MaxEntries()).isEqualTo(100_000);
    assertThat(sessions.ttl()).isEqualTo(Duration.ofMinutes(5));
    CacheSettings small = CacheSettings.read(root, "small", p);
    assertThat(small.backend()).as("the only backend").isEqualTo("fast");
    assertThat(small.l1MaxWeight()).isEqualTo(8L << 20);
    assertThat(small.l1ExpireAfterAccess()).isEqualTo(Duration.ofMinutes(1));
    CacheSettings plain = CacheSettings.read(root, "plain", p);
    assertThat(plain.profile()).isEqualTo("balanced");
    assertThat(plain.l1MaxEntries())
        .as("the default profile (balanced) holds the credential workload's 100,000 keys")
        .isEqualTo(100_000);
    assertThat(plain.l1MaxWeight()).as("memory still bounded by weight").isEqualTo(64L << 20);
    assertThat(plain.ttl()).isEqualTo(Duration.ofMinutes(10));
    assertThat(plain.l2Enabled()).isTrue();
    assertThat(p).isEmpty();
  }

  @Test
  void everyProblemHasPathFileLineAndAHint() throws Exception {
    Config root =
        load(
            "cairn.backends.fast { type = memory }\n"
                + "cairn.caches.sessions {\n"
                + "  backend = fats\n"
                + "  profile = low-latncy\n"
                + "  l1.max-entrys = 5\n"
                + "  ttl = forever\n"
                + "  l2 = yes\n"
                + "}\n"
                + "cairn.cache-profiles.mine { profile = x }\n");
    List<ConfigProblem> problems = validate(root);
    assertThat(problems)
        .anySatisfy(
            p -> {
              assertThat(p.path()).isEqualTo("cairn.caches.sessions.backend");
              assertThat(p.origin()).endsWith("app.conf:3");
              assertThat(p.expected()).contains("did you mean 'fast'");
            })
        .anySatisfy(
            p -> {
              assertThat(p.path()).isEqualTo("cairn.caches.sessions.profile");
              assertThat(p.expected()).contains("did you mean 'low-latency'");
            })
        .anySatisfy(
            p -> {
              assertThat(p.path()).isEqualTo("cairn.caches.sessions.l1.max-entrys");
              assertThat(p.origin()).endsWith("app.conf:5");
              assertThat(p.expected()).contains("did you mean 'max-entries'");
            })
        .anySatisfy(p -> assertThat(p.path()).isEqualTo("cairn.caches.sessions.ttl"))
        .anySatisfy(p -> assertThat(p.path()).isEqualTo("cairn.caches.sessions.l2"))
        .anySatisfy(p -> assertThat(p.path()).isEqualTo("cairn.cache-profiles.mine.profile"));
  }

  @Test
  void registryWithTieredCachesRejectsBadConfigAtOpen() throws Exception {
    Path file = dir.resolve("bad.conf");
    Files.writeString(
        file, "cairn.backends.main { type = memory }\ncairn.caches.c { backend = other }\n");
    assertThatThrownBy(
            () ->
                PersistenceRegistry.builder()
                    .baseDirectory(dir)
                    .listener(new TieredCaches())
                    .open(ConfigFactory.parseFile(file.toFile())))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cairn.caches.c.backend")
        .hasMessageContaining("bad.conf:2");
  }

  @Test
  void tieredCachesHandsOutOneCachePerName() {
    TieredCaches caches = new TieredCaches();
    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .listener(caches)
            .open(
                ConfigFactory.parseString(
                    "cairn.backends.main { type = memory }\ncairn.caches { a {}, b {} }"))) {
      assertThat(caches.names()).containsExactly("a", "b");
      assertThat(caches.raw("a")).isSameAs(caches.raw("a"));
      assertThatThrownBy(() -> caches.cache("a", Codec.utf8(), Codec.bytes()))
          .isInstanceOf(PersistenceException.class)
          .hasMessageContaining("other codec instances");
      assertThatThrownBy(() -> caches.raw("c"))
          .isInstanceOf(ConfigurationException.class)
          .hasMessageContaining("configured caches: [a, b]");
      Codec<Long> longs = Codec.int64();
      TieredCache<Long, Long> b = caches.cache("b", longs, longs);
      b.put(1L, 2L);
      assertThat(b.getIfPresent(1L)).isEqualTo(2L);
    }
  }
}
