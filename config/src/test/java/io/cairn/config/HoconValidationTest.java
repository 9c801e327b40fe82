package io.cairn.config;

import static io.cairn.config.TestFiles.failure;
import static io.cairn.config.TestFiles.problemAt;
import static io.cairn.config.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mistakes `cairn verify` must explain, in HOCON: each names the key path and file:line. */
class HoconValidationTest {
  @TempDir Path dir;

  @Test
  void validFileLoadsWithDefaults() {
    Path f =
        write(
            dir,
            "ok.conf",
            """
            cairn {
              default-backend = main
              backends {
                main { type = fixture, durability = full, cache-size = 64MiB }
              }
            }
            """);
    Config c = CairnConfig.loadAndValidate(f);
    assertThat(c.getString("cairn.backends.main.durability")).isEqualTo("full");
    assertThat(c.getString("cairn.data-root")).isEqualTo("data"); // from reference.conf
    assertThat(c.getBytes("cairn.backend-defaults.fixture.cache-size")).isEqualTo(8L << 20);
    assertThat(CairnConfig.sourceFiles(c)).containsExactly(f.toString());
  }

  @Test
  void misspelledKeyInsideBackendSuggestsTheRightOne() {
    Path f =
        write(
            dir,
            "typo.conf",
            """
            cairn {
              backends {
                main {
                  type = fixture
                  durabilty = full
                }
              }
            }
            """);
    ConfigurationException e = failure(f);
    assertThat(e.problems()).hasSize(1);
    ConfigProblem p = problemAt(e, "cairn.backends.main.durabilty");
    assertThat(p.origin()).isEqualTo(f + ":5");
    assertThat(p.expected()).contains("did you mean 'durability'?");
    assertThat(e.getMessage())
        .contains("cairn.backends.main.durabilty (" + f + ":5)")
        .contains("did you mean 'durability'?");
  }

  @Test
  void misspelledTopLevelKeySuggestsTheRightOne() {
    Path f =
        write(
            dir,
            "top.conf",
            """
            cairn {
              data-root = "d"
              backendz {
                main { type = fixture }
              }
            }
            """);
    ConfigurationException e = failure(f);
    assertThat(e.problems()).hasSize(1);
    ConfigProblem p = problemAt(e, "cairn.backendz");
    assertThat(p.origin()).isEqualTo(f + ":3");
    assertThat(e.getMessage())
        .contains("cairn.backendz (" + f + ":3)")
        .contains("did you mean 'backends'?");
  }

  @Test
  void misspelledKeyInNestedSectionIsFound() {
    Path f =
        write(
            dir,
            "nested.conf",
            """
            cairn.backend-defaults.common {
              durability = none
              dura-bility = none
            }
            """);
    ConfigurationException e = failure(f);
    ConfigProblem p = problemAt(e, "cairn.backend-defaults.common.dura-bility");
    assertThat(p.origin()).isEqualTo(f + ":3");
    assertThat(p.expected()).contains("did you mean 'durability'?");
  }

  @Test
  void wrongDurabilityNamesKeyLineExpectedAndFound() {
    Path f =
        write(
            dir,
            "type.conf",
            """
            cairn {
              backends {
                main {
                  type = fixture
                  durability = sometimes
                }
              }
            }
            """);
    ConfigurationException e = failure(f);
    assertThat(e.problems()).hasSize(1);
    ConfigProblem p = problemAt(e, "cairn.backends.main.durability");
    assertThat(p.origin()).isEqualTo(f + ":5");
    assertThat(p.expected()).isEqualTo("one of [none, normal, full]");
    assertThat(p.found()).contains("sometimes");
    assertThat(e.getMessage()).contains("cairn.backends.main.durability (" + f + ":5)");
  }

  @Test
  void providerSettingsAreValidatedToo() {
    Path f =
        write(
            dir,
            "size.conf",
            """
            cairn.backends.main {
              type = fixture
              cache-size = lots
            }
            """);
    ConfigProblem p = problemAt(failure(f), "cairn.backends.main.cache-size");
    assertThat(p.origin()).isEqualTo(f + ":3");
    assertThat(p.found()).contains("lots");
  }

  @Test
  void defaultBackendMustNameAConfiguredBackend() {
    Path f =
        write(
            dir,
            "default.conf",
            """
            cairn {
              backends.main.type = fixture
              default-backend = mian
            }
            """);
    ConfigurationException e = failure(f);
    assertThat(e.problems()).hasSize(1);
    ConfigProblem p = problemAt(e, "cairn.default-backend");
    assertThat(p.origin()).isEqualTo(f + ":3");
    assertThat(p.expected()).contains("[main]").contains("did you mean 'main'?");
  }

  @Test
  void backendNamesWithDotsAreQuotedInPaths() {
    Path f =
        write(
            dir,
            "dots.conf",
            """
            cairn.backends {
              "eu.west" { type = fixture, durability = maybe }
            }
            """);
    ConfigProblem p = problemAt(failure(f), "cairn.backends.\"eu.west\".durability");
    assertThat(p.origin()).isEqualTo(f + ":2");
  }

  @Test
  void unknownBackendTypeListsTheKnownTypes() {
    Path f =
        write(
            dir,
            "unknown.conf",
            """
            cairn {
              backends {
                main {
                  type = postgres
                }
              }
            }
            """);
    ConfigurationException e = failure(f);
    ConfigProblem p = problemAt(e, "cairn.backends.main.type");
    assertThat(p.origin()).isEqualTo(f + ":4");
    assertThat(p.expected()).contains("one of the known backend types [fixture]");
    assertThat(p.found()).contains("postgres");
    assertThat(e.getMessage()).contains("cairn.backends.main.type (" + f + ":4)");
  }

  @Test
  void sectionOfTheWrongShapeIsOneProblem() {
    Path f = write(dir, "shape.conf", "cairn {\n  backends = 5\n}\n");
    ConfigurationException e = failure(f);
    assertThat(e.problems()).hasSize(1);
    assertThat(problemAt(e, "cairn.backends").origin()).isEqualTo(f + ":2");
  }

  @Test
  void everyWrongSectionShapeIsExactlyOneProblem() {
    String[][] cases = {
      {"cairn = 5\n", "cairn", "number 5"},
      {"cairn.backend-defaults = null\n", "cairn.backend-defaults", "null"},
      {"x = 1\ncairn.backend-defaults.common = [1]\n", "cairn.backend-defaults.common", "list [1]"},
    };
    for (int i = 0; i < cases.length; i++) {
      Path f = write(dir, "shape" + i + ".conf", cases[i][0]);
      ConfigurationException e = failure(f);
      assertThat(e.problems()).as(cases[i][0]).hasSize(1);
      ConfigProblem p = problemAt(e, cases[i][1]);
      assertThat(p.origin()).isEqualTo(f + ":" + (i == 2 ? 2 : 1));
      assertThat(p.expected()).isEqualTo("an object (a section of settings)");
      assertThat(p.found()).isEqualTo(cases[i][2]);
    }
  }

  @Test
  void threeProblemsInOneFileAreReportedTogether() {
    Path f =
        write(
            dir,
            "three.conf",
            """
            cairn {
              backendz = {}
              backends {
                a { type = fixture, durability = sometimes }
                b { type = sqlight }
              }
            }
            """);
    ConfigurationException e = failure(f);
    assertThat(e.problems())
        .extracting(ConfigProblem::path, ConfigProblem::origin)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("cairn.backendz", f + ":2"),
            org.assertj.core.groups.Tuple.tuple("cairn.backends.a.durability", f + ":4"),
            org.assertj.core.groups.Tuple.tuple("cairn.backends.b.type", f + ":5"));
    assertThat(e.getMessage()).startsWith("Invalid Cairn configuration: 3 problems");
  }

  @Test
  void validateAcceptsAConfigWithoutReferenceDefaults() {
    Config bare =
        com.typesafe.config.ConfigFactory.parseString(
            "cairn.backends.x { type = fixture, durability = none }");
    CairnConfig.validate(bare); // reference defaults are applied first: no problem
  }
}
