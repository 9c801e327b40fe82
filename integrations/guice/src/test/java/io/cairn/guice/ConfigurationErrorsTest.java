package io.cairn.guice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.ConfigurationException;
import io.cairn.runtime.Cairn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Configuration errors fail injector creation (and {@link Cairn.Builder#build()}) with path and
 * file:line, and nothing is opened.
 */
class ConfigurationErrorsTest {
  @TempDir Path dir;

  private Config file(String text) throws IOException {
    Path file = dir.resolve("app.conf");
    Files.writeString(file, text);
    return ConfigFactory.parseFile(file.toFile());
  }

  /** Matches "path (/any/dir/app.conf:line)" as ConfigProblem renders it. */
  private static String at(String path, int line) {
    return java.util.regex.Pattern.quote(path) + " \\(\\S*app\\.conf:" + line + "\\)";
  }

  /** The raw Guice error messages (Guice abbreviates class names only in the combined text). */
  private String createInjector(Config config) {
    CreationException e =
        (CreationException)
            org.assertj.core.api.Assertions.catchThrowable(
                () ->
                    Guice.createInjector(
                        new CairnModule(Cairn.builder(config).baseDirectory(dir))));
    assertThat(e).as("injector creation must fail").isNotNull();
    assertThat(dir.resolve("data")).as("nothing opened").doesNotExist();
    StringBuilder all = new StringBuilder();
    e.getErrorMessages().forEach(m -> all.append(m.getMessage()).append('\n'));
    return all.toString();
  }

  @Test
  void missingModuleClass() throws IOException {
    Config config =
        file(
            "cairn {\n"
                + "  backends.main { type = memory, durability = none }\n"
                + "  modules = [\n"
                + "    routing,\n"
                + "    com.acme.MissingModule\n"
                + "  ]\n"
                + "}\n");
    assertThat(createInjector(config))
        .containsPattern(at("cairn.modules[1]", 5))
        .contains("com.acme.MissingModule");
  }

  @Test
  void classThatIsNotAGuiceModule() throws IOException {
    Config config =
        file(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.modules = [io.cairn.guice.thirdparty.NotAModule]\n");
    assertThat(createInjector(config))
        .containsPattern(at("cairn.modules[0]", 2))
        .contains("com.google.inject.Module")
        .contains("io.cairn.guice.thirdparty.NotAModule, which is not a Guice module");
  }

  @Test
  void misspelledBuiltInModule() throws IOException {
    Config config =
        file(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.modules = [routng]\n");
    assertThat(createInjector(config))
        .containsPattern(at("cairn.modules[0]", 2))
        .contains("did you mean 'routing'?");
  }

  @Test
  void routeTableNamingAnUnknownBackend() throws IOException {
    Config config =
        file(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.modules = [routing]\n"
                + "cairn.route-tables.catalog { backend = mian }\n");
    assertThat(createInjector(config))
        .containsPattern(at("cairn.route-tables.catalog.backend", 3))
        .contains("did you mean 'main'?");
  }

  @Test
  void sectionWithoutItsModuleAndSeveralProblemsAtOnce() throws IOException {
    Config config =
        file(
            "cairn.backends.main { type = memroy }\n"
                + "cairn.modules = []\n"
                + "cairn.route-tables.catalog { snapshot-every = 0 }\n");
    String message = createInjector(config);
    assertThat(message)
        .containsPattern(at("cairn.backends.main.type", 1))
        .containsPattern(at("cairn.route-tables.catalog.snapshot-every", 3))
        .containsPattern(at("cairn.modules", 2))
        .contains("to list 'routing'");
  }

  @Test
  void plainJavaBuildReportsTheSameProblems() throws IOException {
    Config config =
        file(
            "cairn.backends.main { type = memory, durability = none }\n"
                + "cairn.route-tables.catalog { backend = nope }\n");
    assertThatThrownBy(() -> Cairn.builder(config).baseDirectory(dir).build())
        .isInstanceOf(ConfigurationException.class)
        .hasMessageFindingMatch(at("cairn.route-tables.catalog.backend", 2));
  }
}
