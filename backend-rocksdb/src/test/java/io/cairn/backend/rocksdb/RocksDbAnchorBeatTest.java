package io.cairn.backend.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The anchor beat (RocksUpkeep) never fails silently: when the anchor cannot be written the
 * backend's health names the file and what is not covered, and turns healthy again once a beat
 * writes it; writes go on meanwhile.
 */
class RocksDbAnchorBeatTest {
  @TempDir Path dir;

  @Test
  void anAnchorThatCannotBeWrittenMakesTheBackendUnhealthyUntilABeatWritesIt() throws Exception {
    try (StorageBackend be = Rocks.open(dir)) {
      KeyValueStore kv = be.keyValue("kv");
      kv.put(bytes("a"), bytes("1"));
      assertThat(be.health().isHealthy()).as(be.health().getMessage()).isTrue();

      // The beat writes CAIRN-ANCHOR.tmp and renames it; a non-empty directory of that name can
      // neither be deleted nor opened as a file, so every beat fails (as on a full disk).
      Path blocker = dir.resolve(Anchor.FILE + ".tmp");
      Files.createDirectory(blocker);
      Files.writeString(blocker.resolve("x"), "x");
      kv.put(bytes("b"), bytes("2")); // the sequence moves: the next beat tries to record it
      waitFor(() -> !be.health().isHealthy());
      assertThat(be.health().getMessage())
          .contains("cannot record its state in " + dir.resolve(Anchor.FILE))
          .contains("not covered");
      kv.put(bytes("c"), bytes("3"));
      assertThat(kv.get(bytes("c"))).isEqualTo(bytes("3"));

      Files.delete(blocker.resolve("x"));
      Files.delete(blocker);
      kv.put(bytes("d"), bytes("4"));
      waitFor(() -> be.health().isHealthy());
      assertThat(Anchor.read(dir, "test").sequence())
          .as("the anchor records the writes made while it could not be written")
          .isGreaterThanOrEqualTo(4);
    }
  }

  private static void waitFor(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition within 30 s").isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
