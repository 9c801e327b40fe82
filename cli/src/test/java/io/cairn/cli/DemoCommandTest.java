package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn demo} on the embedded default backend, run twice on one data directory. */
class DemoCommandTest {
  @TempDir Path dir;

  @Test
  void secondRunFindsTheFirstRunsData() {
    String dataDir = dir.resolve("demo").toString();
    CliRunner first = CliRunner.run("demo", "--data-dir", dataDir);
    assertThat(first.exitCode()).as(first.err()).isZero();
    assertThat(first.out())
        .contains("type sqlite", "First run", "read back 1000/1000", "gap-free: true")
        .contains("checksum-verified: true", "cairn.backends.demo.kv.put-all")
        .contains("enqueued 10, acked 9, left 1 unacknowledged")
        .contains("loader calls 100")
        .contains("empty table on first run", "/api/v2/svc7/orders/42 -> /api/v2/svc7");

    CliRunner second = CliRunner.run("demo", "--data-dir", dataDir);
    assertThat(second.exitCode()).as(second.err()).isZero();
    assertThat(second.out())
        .contains("Found data after restart: 1 earlier run(s); 1001 entries in kv:demo-users")
        .contains("offsets 0..199")
        .contains("appended offsets 200..399")
        .contains(
            "QUEUE found 1 message(s) from earlier runs (1 redelivered after an expired lease)")
        .contains("L2 hits 100, loader calls 0")
        .containsPattern("restored \\d+ routes at version \\d+ from snapshot \\+ log replay");
  }
}
