package io.cairn.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Helpers shared by the tests: write a file, expect a failure, find a problem by path. */
final class TestFiles {
  private TestFiles() {}

  static Path write(Path dir, String name, String text) {
    try {
      Path file = dir.resolve(name);
      Files.writeString(file, text);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** loadAndValidate must fail with a ConfigurationException; returns it. */
  static ConfigurationException failure(Path file) {
    ConfigurationException e =
        catchThrowableOfType(ConfigurationException.class, () -> CairnConfig.loadAndValidate(file));
    assertThat(e).as("loadAndValidate(%s) should fail", file).isNotNull();
    return e;
  }

  /** The one problem reported for {@code path}. */
  static ConfigProblem problemAt(ConfigurationException e, String path) {
    assertThat(e.problems()).extracting(ConfigProblem::path).contains(path);
    return e.problems().stream().filter(p -> p.path().equals(path)).findFirst().orElseThrow();
  }
}
