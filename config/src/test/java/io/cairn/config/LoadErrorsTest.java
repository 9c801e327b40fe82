package io.cairn.config;

import static io.cairn.config.TestFiles.failure;
import static io.cairn.config.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigurationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * File-level failures: each is a ConfigurationException naming the file (and the line for syntax
 * errors, with what the parser expected), never a Typesafe or night-config exception.
 */
class LoadErrorsTest {
  @TempDir Path dir;

  @Test
  void missingFile() {
    Path f = dir.resolve("nope.conf");
    ConfigurationException e = failure(f);
    assertThat(e.getMessage()).contains(f.toString()).contains("does not exist");
    assertThat(e.problems()).isEmpty();
  }

  @Test
  void missingTomlFile() {
    Path f = dir.resolve("nope.toml");
    assertThat(failure(f).getMessage()).contains(f + " does not exist");
  }

  @Test
  void unreadableFile() throws IOException {
    Path f = write(dir, "secret.conf", "cairn {}\n");
    try {
      Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("---------"));
    } catch (UnsupportedOperationException e) {
      assumeTrue(false, "no POSIX permissions on this file system");
    }
    assumeTrue(!Files.isReadable(f), "running as a user who can read anything (root)");
    assertThat(failure(f).getMessage()).contains(f.toString()).contains("permission denied");
  }

  @Test
  void fileThatCannotBeReadEvenByRoot() throws IOException {
    Path a = dir.resolve("loop-a.conf");
    Path b = dir.resolve("loop-b.conf");
    Files.createSymbolicLink(a, b);
    Files.createSymbolicLink(b, a);
    assertThat(failure(a).getMessage())
        .startsWith("Cannot read configuration file " + a + ": ")
        .contains("symbolic links");
  }

  @Test
  void directoryInsteadOfFile() throws IOException {
    Path d = Files.createDirectory(dir.resolve("conf.d.conf"));
    assertThat(failure(d).getMessage()).contains(d.toString()).contains("is a directory");
  }

  @Test
  void unsupportedExtensionListsTheSupportedOnes() {
    Path f = write(dir, "app.yaml", "cairn: {}\n");
    assertThat(failure(f).getMessage())
        .contains(f.toString())
        .contains("'.yaml'")
        .contains("[.conf, .json, .properties, .toml]");
  }

  @Test
  void hoconSyntaxErrorNamesFileLineAndWhatWasExpected() {
    Path f =
        write(
            dir,
            "broken.conf",
            """
            cairn {
              backends {
                main { type = fixture ]
              }
            }
            """);
    ConfigurationException e = failure(f);
    assertThat(e.getMessage())
        .startsWith("Syntax error in " + f + ":3: ")
        .contains("Expecting close brace } or a comma, got ']'");
  }

  @Test
  void hoconUnclosedBraceIsReportedAtEndOfFile() {
    Path f = write(dir, "open.conf", "cairn {\n  data-root = x\n");
    assertThat(failure(f).getMessage()).startsWith("Syntax error in " + f + ":3: ");
  }

  @Test
  void jsonSyntaxError() {
    Path f = write(dir, "broken.json", "{\n  \"cairn\": {\n    \"data-root\": \n  }\n}\n");
    ConfigurationException e = failure(f);
    assertThat(e.getMessage()).startsWith("Syntax error in " + f + ":4: ").contains("Expecting");
  }

  @Test
  void tomlUnquotedStringIsASyntaxErrorAtItsLine() {
    Path f =
        write(
            dir,
            "broken.toml",
            """
            [cairn.backends.main]
            type = "fixture"
            durability = sometimes
            data-dir = "x"
            """);
    ConfigurationException e = failure(f);
    assertThat(e.getMessage())
        .startsWith("Syntax error in TOML file " + f + ":3: ")
        .contains("found the unquoted word sometimes")
        .contains("durability = \"sometimes\"");
    assertThat(e.getCause()).isNotInstanceOf(ConfigurationException.class); // keeps parser cause
  }

  @Test
  void tomlUnquotedDurationGetsTheSameHint() {
    Path f = write(dir, "duration.toml", "[app]\nretries = 3\ntimeout = 30s # seconds\n");
    assertThat(failure(f).getMessage())
        .startsWith("Syntax error in TOML file " + f + ":3: ")
        .contains("timeout = \"30s\"");
  }

  @Test
  void tomlErrorsAreReportedAtTheirLines() {
    String[][] cases = {
      // text, expected line
      {"a = 1\nb = \nc = 3\n", "2"},
      {"[x]\ny = 1\n[x]\nz = 1\n", "3"},
      {"a = 1\na = 2\nb = 3\n", "2"},
      {"x = \"unterminated\ny = 1\n", "1"},
      {"\nk == 3\nz = 1\n", "2"},
      {"# c\n[t]\nd = 1979-05-27T07:32:00Q\ne = 1\n", "3"},
      {"a = 1\n[b\nc = 2\n", "2"},
      {"a = 1\n[b]\nc = 2 3\n", "3"},
    };
    for (int i = 0; i < cases.length; i++) {
      Path f = write(dir, "case" + i + ".toml", cases[i][0]);
      assertThat(failure(f).getMessage())
          .as("case %d: %s", i, cases[i][0])
          .startsWith("Syntax error in TOML file " + f + ":" + cases[i][1] + ": ");
    }
  }

  @Test
  void tomlUnclosedArraySaysEndOfFile() {
    Path f = write(dir, "open.toml", "a = 1\nb = [1,\n  2,\n");
    assertThat(failure(f).getMessage())
        .startsWith("Syntax error in TOML file " + f + ":3: ")
        .contains("unexpected end of file");
  }

  @Test
  void propertiesMalformedEscapeIsReportedAtItsLine() {
    Path f = write(dir, "bad.properties", "# c\ncairn.data-root=ok\ncairn.default-type=\\uZZZZ\n");
    assertThat(failure(f).getMessage())
        .startsWith("Syntax error in properties file " + f + ":3: ")
        .contains("Malformed");
  }

  @Test
  void notUtf8IsReportedWithItsLine() throws IOException {
    Path f = dir.resolve("latin1.toml");
    Files.write(f, new byte[] {'a', '=', '1', '\n', 'b', '=', '"', (byte) 0xE9, '"', '\n'});
    assertThat(failure(f).getMessage()).contains(f + ":2").contains("not valid UTF-8");
  }

  @Test
  void unresolvedSubstitutionNamesFileAndLine() {
    Path f = write(dir, "subst.conf", "cairn {\n  data-root = ${no-such-setting}\n}\n");
    assertThat(failure(f).getMessage())
        .startsWith("Unresolved substitution in " + f + ":2: ")
        .contains("${no-such-setting}");
  }

  @Test
  void relativeIncludesAreResolvedAgainstTheFile() throws IOException {
    Path sub = Files.createDirectory(dir.resolve("etc"));
    write(sub, "backends.conf", "cairn.backends.main {\n  type = fixture\n  durabilty = full\n}\n");
    Path f = write(sub, "app.conf", "include \"backends.conf\"\ncairn.data-root = x\n");
    Config ok =
        CairnConfig.load(
            write(sub, "good.conf", "include \"backends.conf\"\ncairn.data-root = x\n"));
    assertThat(ok.getString("cairn.backends.main.type")).isEqualTo("fixture");
    // the mistake is reported at its line in the included file
    ConfigurationException e = failure(f);
    assertThat(e.getMessage())
        .contains("cairn.backends.main.durabilty (" + sub.resolve("backends.conf") + ":3)");
    assertThat(CairnConfig.sourceFiles(ok))
        .containsExactly(
            sub.resolve("backends.conf").toString(), sub.resolve("good.conf").toString());
  }

  @Test
  void parseFileGivesOnlyTheFilesOwnSettings() {
    Path f = write(dir, "own.conf", "cairn.data-root = x\n");
    Config own = CairnConfig.parseFile(f);
    assertThat(own.hasPath("cairn.default-type")).isFalse();
    assertThat(CairnConfig.load(f).getString("cairn.default-type")).isEqualTo("sqlite");
  }

  @Test
  void nullPathIsAProgrammingError() {
    assertThatThrownBy(() -> CairnConfig.load((Path) null))
        .isInstanceOf(NullPointerException.class);
  }
}
