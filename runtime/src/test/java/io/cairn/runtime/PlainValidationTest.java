package io.cairn.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.cairn.config.CairnConfig;
import io.cairn.persistence.ConfigurationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11.4 and 11.10 through the plain-Java entry point, {@code Cairn.open(path)}: the mistakes
 * are configuration errors before anything opens, not something the injector (or nothing) finds
 * later.
 */
class PlainValidationTest {
  @TempDir Path dir;

  private ConfigurationException openFails(String text) throws IOException {
    Path file = dir.resolve("app.conf");
    Files.writeString(file, text);
    ConfigurationException e =
        catchThrowableOfType(
            ConfigurationException.class, () -> Cairn.open(CairnConfig.load(file)).close());
    assertThat(e).as("Cairn.open must refuse").isNotNull();
    assertThat(dir.resolve("data")).as("nothing opened").doesNotExist();
    return e;
  }

  @Test
  void moduleClassesAreCheckedWithoutGuiceInstallingThem() throws IOException {
    ConfigurationException e =
        openFails(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.modules = [queue, com.acme.Missing, io.cairn.runtime.NotAModule]\n");
    assertThat(e.getMessage())
        .contains("cairn.modules[1]", "no class \"com.acme.Missing\"")
        .contains("cairn.modules[2]", "NotAModule, which is not a Guice module");
  }

  @Test
  void fileWithoutTheCairnWrapperDoesNotOpenWithZeroBackends() throws IOException {
    ConfigurationException e =
        openFails("backends.main { type = sqlite, data-dir = data/main }\nmodules = [queue]\n");
    assertThat(e.getMessage())
        .contains("did you mean cairn.backends?", "did you mean cairn.modules?");
  }

  @Test
  void twoBackendsSharingADataDirectoryAreRefusedBeforeOpening() throws IOException {
    ConfigurationException e =
        openFails(
            "cairn.backends.a { type = sqlite, data-dir = \""
                + dir.resolve("data/x")
                + "\" }\ncairn.backends.b { type = sqlite, data-dir = \""
                + dir.resolve("data/x")
                + "\" }\n");
    assertThat(e.getMessage()).contains("cairn.backends.b.data-dir", "same data directory");
  }

  @Test
  void deprecatedSectionNamesStillOpen() throws IOException {
    Path file = dir.resolve("old.conf");
    Files.writeString(
        file,
        "cairn.backends.main { type = memory, durability = none }\n"
            + "cairn.cache.users { ttl = 5m }\ncairn.routing.edge { snapshot-every = 10 }\n");
    assertThat(CairnConfig.warnings(CairnConfig.load(file)))
        .anySatisfy(w -> assertThat(w).contains("cairn.cache (", "rename it to cairn.caches"))
        .anySatisfy(w -> assertThat(w).contains("rename it to cairn.route-tables"));
    try (Cairn cairn = Cairn.open(CairnConfig.load(file))) {
      assertThat(cairn.cacheNames()).containsExactly("users");
      assertThat(cairn.routeTableNames()).containsExactly("edge");
    }
  }
}
