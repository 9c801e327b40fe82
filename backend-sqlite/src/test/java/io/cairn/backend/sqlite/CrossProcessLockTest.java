package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.crash.BackendHolder;
import io.cairn.tck.crash.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two JVMs on one directory: the second gets BackendLockedException naming dir and pid. */
class CrossProcessLockTest {
  @TempDir Path dir;

  private Path config(Path data) throws Exception {
    Path conf = dir.resolve("holder.conf");
    Files.writeString(
        conf,
        "cairn.backends.main { type = " + TestBackends.TYPE + ", data-dir = \"" + data + "\" }\n",
        StandardCharsets.UTF_8);
    return conf;
  }

  @Test
  void childHoldsLockParentIsRefusedUntilChildDies() throws Exception {
    Path data = dir.resolve("data");
    try (ChildJvm child = ChildJvm.start(BackendHolder.class, config(data).toString())) {
      String opened =
          child.awaitLine(
              l -> l.startsWith("OPENED") || l.startsWith("FAILED"), Duration.ofSeconds(60));
      assertThat(opened).startsWith("OPENED");
      assertThatThrownBy(() -> TestBackends.open(data, ""))
          .isInstanceOf(BackendLockedException.class)
          .hasMessageContaining(data.toString())
          .hasMessageContaining("pid " + child.pid());
      child.killHard();
    }
    // the OS released the lock with the process: the data is usable again
    try (PersistenceRegistry r = TestBackends.open(data, "")) {
      r.backend("main").keyValue("k").put(new byte[] {1}, new byte[] {2});
    }
  }

  @Test
  void parentHoldsLockChildIsRefused() throws Exception {
    Path data = dir.resolve("data");
    try (PersistenceRegistry r = TestBackends.open(data, "");
        ChildJvm child = ChildJvm.start(BackendHolder.class, config(data).toString())) {
      String line =
          child.awaitLine(
              l -> l.startsWith("OPENED") || l.startsWith("FAILED"), Duration.ofSeconds(60));
      assertThat(line)
          .startsWith("FAILED " + BackendLockedException.class.getName())
          .contains(data.toString())
          .contains("pid " + ProcessHandle.current().pid());
      assertThat(child.waitFor(Duration.ofSeconds(30))).isEqualTo(2);
    }
  }
}
