package io.cairn.config;

import static io.cairn.config.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.ConfigurationException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Environment and system-property overrides, and the classpath entry point. The environment
 * variable {@code CONFIG_FORCE_cairntest_env__override=from-env} is set for the test JVM by this
 * module's surefire configuration.
 */
class OverridesTest {
  private static final String ENV = "CONFIG_FORCE_cairntest_env__override";

  @TempDir Path dir;

  @AfterEach
  void clearProperties() {
    System.clearProperty("cairntest.env-override");
    System.clearProperty("cairntest.prop");
    System.clearProperty("cairn.default-backend");
    System.clearProperty("cairn.backendz");
    System.clearProperty("config.file");
    ConfigFactory.invalidateCaches();
  }

  @Test
  void environmentOverrideBeatsFileAndSystemProperty() {
    assertThat(System.getenv(ENV))
        .as("%s must be set for this test JVM (config/pom.xml surefire config)", ENV)
        .isEqualTo("from-env");
    System.setProperty("cairntest.env-override", "from-property");
    ConfigFactory.invalidateCaches();
    Path f = write(dir, "env.toml", "[cairntest]\nenv-override = \"from-file\"\n");
    Config c = CairnConfig.load(f);
    assertThat(c.getString("cairntest.env-override")).isEqualTo("from-env");
  }

  @Test
  void systemPropertyBeatsFile() {
    System.setProperty("cairn.default-backend", "from-property");
    ConfigFactory.invalidateCaches();
    Path f =
        write(
            dir,
            "sys.conf",
            """
            cairn.default-backend = from-file
            cairn.backends { from-file.type = fixture, from-property.type = fixture }
            """);
    Config c = CairnConfig.loadAndValidate(f);
    assertThat(c.getString("cairn.default-backend")).isEqualTo("from-property");
  }

  @Test
  void misspelledSystemPropertyIsCaughtToo() {
    System.setProperty("cairn.backendz", "x");
    ConfigFactory.invalidateCaches();
    Path f = write(dir, "clean.conf", "cairn.data-root = d\n");
    ConfigurationException e = TestFiles.failure(f);
    assertThat(TestFiles.problemAt(e, "cairn.backendz").origin()).isEqualTo("system properties");
  }

  @Test
  void fileSettingsOverrideReferenceDefaults() {
    Path f = write(dir, "ref.conf", "cairn.backend-defaults.common.durability = none\n");
    Config c = CairnConfig.loadAndValidate(f);
    assertThat(c.getString("cairn.backend-defaults.common.durability")).isEqualTo("none");
    assertThat(c.getString("cairn.default-type")).isEqualTo("sqlite");
  }

  @Test
  void substitutionsSeeEveryLayer() {
    Path f =
        write(
            dir,
            "subst.conf",
            "cairntest.root = ${cairn.default-type}\ncairntest.env = ${cairntest.env-override}\n");
    Config c = CairnConfig.load(f);
    assertThat(c.getString("cairntest.root")).isEqualTo("sqlite");
    assertThat(c.getString("cairntest.env")).isEqualTo("from-env");
  }

  @Test
  void classpathLoadReadsApplicationConfOverReference() {
    Config c = CairnConfig.load();
    assertThat(c.getString("cairntest.from-classpath")).isEqualTo("yes");
    assertThat(c.getString("cairn.data-root")).isEqualTo("data");
    assertThat(c.getString("cairntest.env-override")).isEqualTo("from-env");
    CairnConfig.validate(c);
  }

  @Test
  void classpathLoadHonoursConfigFileInAnyFormat() {
    Path f = write(dir, "app.toml", "[cairn]\ndefault-backend = \"toml\"\n");
    System.setProperty("config.file", f.toString());
    Config c = CairnConfig.load();
    assertThat(c.getString("cairn.default-backend")).isEqualTo("toml");
    assertThat(c.hasPath("cairntest.from-classpath")).isFalse();
    System.setProperty("config.file", dir.resolve("missing.toml").toString());
    assertThat(
            org.assertj.core.api.Assertions.catchThrowableOfType(
                ConfigurationException.class, CairnConfig::load))
        .hasMessageContaining("missing.toml does not exist");
  }
}
