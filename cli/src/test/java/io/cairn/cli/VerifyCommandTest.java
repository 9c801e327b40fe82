package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn verify} on bad configuration: exit code 2 and a message naming the key and the
 * file:line, never a stack trace. Each mistake in HOCON and in TOML.
 */
class VerifyCommandTest {
  @TempDir Path dir;

  private Path write(String name, String text) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, text);
    return file;
  }

  private CliRunner verify(Path file) {
    return CliRunner.run("verify", "--config", file.toString());
  }

  private static void assertUsageError(CliRunner r, String... fragments) {
    assertThat(r.exitCode()).as(r.err()).isEqualTo(CairnCommand.USAGE);
    assertThat(r.err()).contains(fragments).doesNotContain("\tat ").doesNotContain("Exception:");
  }

  @Test
  void healthyConfigurationExitsZero() throws IOException {
    Path file =
        write(
            "ok.conf",
            "cairn {\n  backends.main { type = memory, data-dir = \""
                + dir
                + "/m\" }\n  modules = [cache, queue, routing]\n"
                + "  queues.orders { backend = main, visibility-timeout = 30s, max-attempts = 5 }\n"
                + "  cache.sessions { backend = main, l1.max-entries = 1000, ttl = 10m }\n"
                + "  routing.catalog { backend = main, snapshot-every = 10000 }\n}\n");
    CliRunner r = verify(file);
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("OK", "main (memory)");
  }

  @Test
  void misspelledKeyNamesKeyFileAndLineWithSuggestion() throws IOException {
    Path file =
        write(
            "typo.conf",
            "cairn {\n  backends {\n    main {\n      type = memory\n      durabilty = none\n    }\n  }\n}\n");
    assertUsageError(
        verify(file), "cairn.backends.main.durabilty", "typo.conf:5", "did you mean 'durability'");
  }

  @Test
  void misspelledTopLevelKey() throws IOException {
    Path file = write("top.conf", "cairn {\n  backendz {}\n}\n");
    assertUsageError(verify(file), "cairn.backendz", "top.conf:2", "did you mean 'backends'");
  }

  @Test
  void wrongValueNamesExpectedAndFound() throws IOException {
    Path file =
        write(
            "type.conf",
            "cairn.backends {\n  main {\n    type = memory\n    durability = sometimes\n  }\n}\n");
    assertUsageError(
        verify(file),
        "cairn.backends.main.durability",
        "type.conf:4",
        "one of [none, normal, full]",
        "sometimes");
  }

  @Test
  void unknownBackendTypeListsKnownTypes() throws IOException {
    Path file = write("unknown.conf", "cairn.backends {\n  main { type = cassandra }\n}\n");
    assertUsageError(
        verify(file), "cairn.backends.main.type", "unknown.conf:2", "memory", "cassandra");
  }

  @Test
  void missingFile() {
    assertUsageError(verify(dir.resolve("absent.conf")), "absent.conf", "does not exist");
  }

  @Test
  void syntaxErrorNamesFileAndLine() throws IOException {
    Path file = write("broken.conf", "cairn {\n  backends {\n    main { type = memory \n  }\n");
    assertUsageError(verify(file), "broken.conf");
    assertThat(verify(file).err()).containsPattern("broken\\.conf:\\d+");
  }

  @Test
  void tomlMisspelledKey() throws IOException {
    Path file =
        write("typo.toml", "[cairn.backends.main]\ntype = \"memory\"\ndurabilty = \"none\"\n");
    assertUsageError(
        verify(file), "cairn.backends.main.durabilty", "typo.toml:3", "did you mean 'durability'");
  }

  @Test
  void tomlWrongValue() throws IOException {
    Path file =
        write(
            "type.toml", "[cairn.backends.main]\ntype = \"memory\"\ndurability = \"sometimes\"\n");
    assertUsageError(verify(file), "cairn.backends.main.durability", "type.toml:3", "sometimes");
  }

  @Test
  void tomlUnknownBackendType() throws IOException {
    Path file = write("unknown.toml", "[cairn.backends.main]\ntype = \"cassandra\"\n");
    assertUsageError(
        verify(file), "cairn.backends.main.type", "unknown.toml:2", "memory", "cassandra");
  }

  @Test
  void tomlMissingFile() {
    assertUsageError(verify(dir.resolve("absent.toml")), "absent.toml", "does not exist");
  }

  @Test
  void tomlSyntaxError() throws IOException {
    Path file = write("broken.toml", "[cairn.backends.main]\ntype = \"memory\n");
    CliRunner r = verify(file);
    assertUsageError(r, "broken.toml");
    assertThat(r.err()).containsPattern("broken\\.toml:\\d+");
  }

  @Test
  void allProblemsReportedAtOnce() throws IOException {
    Path file =
        write(
            "many.conf",
            "cairn {\n  backendz {}\n  backends {\n    a { type = memory, durabilty = none }\n"
                + "    b { type = memroy }\n  }\n}\n");
    CliRunner r = verify(file);
    assertUsageError(r, "3 problems", "many.conf:2", "many.conf:4", "many.conf:5");
  }
}
