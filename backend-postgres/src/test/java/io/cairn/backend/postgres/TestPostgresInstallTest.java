package io.cairn.backend.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The last step of extracting the test server's binaries when two JVMs extract at once (two modules
 * built side by side with -T 2 on a machine whose temp directory has no extraction yet): the one
 * that renames second finds the other's complete extraction and uses it (a CI run of 2026-12-07
 * failed PostgresTckTest with "Directory not empty" here), but a target that is not a complete
 * extraction is reported, not used.
 */
class TestPostgresInstallTest {
  @TempDir Path dir;

  @Test
  void theSecondExtractionUsesTheFirstOneAndDeletesItsOwn() throws IOException {
    Path target = extraction(dir.resolve("pg"));
    Path mine = extraction(dir.resolve("extracting-mine"));

    TestPostgres.install(mine, target);

    assertThat(mine).doesNotExist();
    assertThat(target.resolve("bin/postgres")).isExecutable();
  }

  @Test
  void theFirstExtractionIsMovedIntoPlace() throws IOException {
    Path mine = extraction(dir.resolve("extracting-mine"));
    Path target = dir.resolve("pg");

    TestPostgres.install(mine, target);

    assertThat(mine).doesNotExist();
    assertThat(target.resolve("bin/postgres")).isExecutable();
  }

  @Test
  void aTargetThatIsNoCompleteExtractionIsReported() throws IOException {
    Path target = dir.resolve("pg");
    Files.createDirectories(target.resolve("share"));
    Files.writeString(target.resolve("share/half-copied"), "x");
    Path mine = extraction(dir.resolve("extracting-mine"));

    assertThatThrownBy(() -> TestPostgres.install(mine, target))
        .isInstanceOf(IOException.class)
        .hasMessageContaining(target.toString())
        .hasMessageContaining("without an executable bin/postgres");
    assertThat(mine.resolve("bin/postgres")).as("nothing deleted on failure").isExecutable();
  }

  private static Path extraction(Path root) throws IOException {
    Path postgres = Files.createDirectories(root.resolve("bin")).resolve("postgres");
    Files.writeString(postgres, "#!/bin/sh\n");
    Files.setPosixFilePermissions(postgres, PosixFilePermissions.fromString("rwxr-xr-x"));
    return root;
  }
}
