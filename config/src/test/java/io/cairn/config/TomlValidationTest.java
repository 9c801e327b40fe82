package io.cairn.config;

import static io.cairn.config.TestFiles.failure;
import static io.cairn.config.TestFiles.problemAt;
import static io.cairn.config.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same mistakes as {@link HoconValidationTest}, written in TOML: exact lines still reported.
 */
class TomlValidationTest {
  @TempDir Path dir;

  @Test
  void validFileLoads() {
    Path f =
        write(
            dir,
            "ok.toml",
            """
            [cairn]
            default-backend = "main"

            [cairn.backends.main]
            type = "fixture"
            durability = "full"
            cache-size = "64MiB"
            """);
    Config c = CairnConfig.loadAndValidate(f);
    assertThat(c.getBytes("cairn.backends.main.cache-size")).isEqualTo(64L << 20);
    assertThat(c.getValue("cairn.backends.main.durability").origin().lineNumber()).isEqualTo(6);
  }

  @Test
  void misspelledKeyInsideBackend() {
    Path f =
        write(
            dir,
            "typo.toml",
            """
            # the main backend
            [cairn.backends.main]
            type = "fixture"
            durabilty = "full"
            """);
    ConfigurationException e = failure(f);
    assertThat(e.problems()).hasSize(1);
    ConfigProblem p = problemAt(e, "cairn.backends.main.durabilty");
    assertThat(p.origin()).isEqualTo(f + ":4");
    assertThat(e.getMessage())
        .contains("cairn.backends.main.durabilty (" + f + ":4)")
        .contains("did you mean 'durability'?");
  }

  @Test
  void misspelledTopLevelKeyAsTableHeader() {
    Path f =
        write(
            dir,
            "top.toml",
            """
            [cairn]
            data-root = "d"

            [cairn.backendz.main]
            type = "fixture"
            """);
    ConfigurationException e = failure(f);
    assertThat(e.problems()).hasSize(1);
    assertThat(problemAt(e, "cairn.backendz").origin()).isEqualTo(f + ":4");
    assertThat(e.getMessage())
        .contains("cairn.backendz (" + f + ":4)")
        .contains("did you mean 'backends'?");
  }

  @Test
  void misspelledTopLevelKeyAsDottedKey() {
    Path f =
        write(
            dir,
            "dotted.toml",
            """
            [cairn]
            data-root = "d"
            backendz.main.type = "fixture"
            """);
    assertThat(problemAt(failure(f), "cairn.backendz").origin()).isEqualTo(f + ":3");
  }

  @Test
  void wrongDurability() {
    Path f =
        write(
            dir,
            "type.toml",
            """
            [cairn.backends.main]
            type = "fixture"
            durability = "sometimes"
            """);
    ConfigurationException e = failure(f);
    ConfigProblem p = problemAt(e, "cairn.backends.main.durability");
    assertThat(p.origin()).isEqualTo(f + ":3");
    assertThat(p.expected()).isEqualTo("one of [none, normal, full]");
    assertThat(p.found()).contains("sometimes");
    assertThat(e.getMessage()).contains("cairn.backends.main.durability (" + f + ":3)");
  }

  @Test
  void durabilityOfTheWrongTomlType() {
    Path f =
        write(
            dir,
            "number.toml",
            """
            [cairn.backends.main]
            type = "fixture"
            durability = 3
            """);
    ConfigProblem p = problemAt(failure(f), "cairn.backends.main.durability");
    assertThat(p.origin()).isEqualTo(f + ":3");
    assertThat(p.found()).isEqualTo("number 3");
  }

  @Test
  void unknownBackendTypeInInlineTable() {
    Path f =
        write(
            dir,
            "unknown.toml",
            """
            [cairn.backends]
            main = { type = "fixture" }
            other = { type = "postgres", durability = "full" }
            """);
    ConfigurationException e = failure(f);
    ConfigProblem p = problemAt(e, "cairn.backends.other.type");
    assertThat(p.origin()).isEqualTo(f + ":3");
    assertThat(p.expected()).contains("[fixture]");
    assertThat(p.found()).contains("postgres");
  }

  @Test
  void threeProblemsInOneTomlFile() {
    Path f =
        write(
            dir,
            "three.toml",
            """
            [cairn]
            backendz = {}

            [cairn.backends.a]
            type = "fixture"
            durability = "sometimes"

            [cairn.backends.b]
            type = "sqlight"
            """);
    ConfigurationException e = failure(f);
    assertThat(e.problems()) // listed in file order
        .extracting(ConfigProblem::path, ConfigProblem::origin)
        .containsExactly(
            tuple("cairn.backendz", f + ":2"),
            tuple("cairn.backends.a.durability", f + ":6"),
            tuple("cairn.backends.b.type", f + ":9"));
  }
}
