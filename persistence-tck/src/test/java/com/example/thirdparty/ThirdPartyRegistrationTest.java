package com.example.thirdparty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.Durability;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plumbing a third party relies on: the provider is found through META-INF/services, its
 * reference.conf supplies defaults, a HOCON file selects it by type, and Cairn's own validation
 * applies to its settings. No Cairn backend is on this class path, so nothing else could answer.
 */
class ThirdPartyRegistrationTest {
  @TempDir Path dir;

  @Test
  void onlyTheThirdPartyTypesAreKnownHere() {
    // the example and its deliberately broken variants for the TCK's mutation tests
    assertThat(PersistenceRegistry.knownTypes())
        .containsExactly(
            "thirdparty",
            "thirdparty-close-only",
            "thirdparty-no-encryption",
            "thirdparty-no-lock");
  }

  @Test
  void aHoconFileSelectsTheBackendByType() throws Exception {
    Path file = dir.resolve("application.conf");
    try (InputStream in = getClass().getResourceAsStream("/thirdparty-example.conf")) {
      Files.copy(in, file);
    }
    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(ConfigFactory.parseFile(file.toFile()))) {
      StorageBackend b = r.backend("example");
      assertThat(b).isNotNull();
      assertThat(b.type()).isEqualTo("thirdparty");
      assertThat(b.durability())
          .as("default from the test reference.conf")
          .isEqualTo(Durability.NONE);
      b.keyValue("kv").put(bytes("k"), bytes("v"));
      assertThat(r.metrics().timer("cairn.backends.example.kv.put").getCount()).isEqualTo(1);
    }
    assertThat(dir.resolve("example-data").resolve("state.bin")).exists();
  }

  @Test
  void cairnValidatesTheThirdPartysSettings() {
    assertThatThrownBy(
            () ->
                PersistenceRegistry.builder()
                    .baseDirectory(dir)
                    .open(
                        ConfigFactory.parseString(
                            "cairn.backends.x { type = thirdparty, durability = full,"
                                + " block-cache = 1MiB }")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cairn.backends.x.durability")
        .hasMessageContaining("cairn.backends.x.block-cache");
    assertThatThrownBy(
            () ->
                PersistenceRegistry.builder()
                    .baseDirectory(dir)
                    .open(ConfigFactory.parseString("cairn.backends.x { type = thirdpraty }")))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("did you mean 'thirdparty'");
  }

  @Test
  void aSecondOpenOfTheSameDirectoryIsRefused() {
    String conf = "cairn.backends.x { type = thirdparty, data-dir = shared }";
    try (PersistenceRegistry first =
        PersistenceRegistry.builder().baseDirectory(dir).open(ConfigFactory.parseString(conf))) {
      first.backend("x").log("l").append(bytes("x"));
      assertThatThrownBy(
              () ->
                  PersistenceRegistry.builder()
                      .baseDirectory(dir)
                      .open(ConfigFactory.parseString(conf)))
          .isInstanceOf(BackendLockedException.class);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
