package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.StorageBackend;
import io.cairn.tck.crash.BackendHolder;
import io.cairn.tck.crash.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two JVMs on one directory (the shared {@link BackendHolder} child): RocksDB's LOCK refuses the
 * second with {@link BackendLockedException} naming the directory and the holder's pid, and the
 * lock goes with the holder's process.
 */
class RocksDbCrossProcessLockTest {
  @TempDir Path dir;

  @Test
  void childHoldsTheLockParentIsRefusedUntilTheChildDies() throws Exception {
    Path data = dir.resolve("data");
    Path conf = dir.resolve("holder.conf");
    Files.writeString(
        conf,
        "cairn.backends.main { type = "
            + RocksDbBackendProvider.TYPE
            + ", data-dir = \""
            + data
            + "\" }\n",
        StandardCharsets.UTF_8);
    try (ChildJvm child = ChildJvm.start(BackendHolder.class, conf.toString())) {
      String opened =
          child.awaitLine(
              l -> l.startsWith("OPENED") || l.startsWith("FAILED"), Duration.ofSeconds(60));
      assertThat(opened).startsWith("OPENED");
      assertThatThrownBy(() -> Rocks.open(data))
          .isInstanceOf(BackendLockedException.class)
          .hasMessageContaining(data.toString())
          .hasMessageContaining("pid " + child.pid());
      child.killHard();
      child.waitFor(Duration.ofSeconds(30));
    }
    try (StorageBackend be = Rocks.open(data)) {
      assertThat(be.keyValue("k").put(b("a"), b("b"))).isEqualTo(1);
    }
  }
}
