package io.cairn.backend.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageEngine;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

  /**
   * A beat interrupted while writing (close stops the beat with an interrupt) is not a failure to
   * record the state: no warning, health stays healthy, and the next beat writes the anchor.
   */
  @Test
  void aBeatInterruptedByCloseIsNotReportedAsAFailure() throws Exception {
    BackendContext ctx =
        BackendContext.builder("beat", RocksDbBackendProvider.TYPE)
            .dataDir(dir)
            .durability(Durability.NORMAL)
            .build();
    try (RocksStorageEngine e = RocksStorageEngine.open(ctx, RocksDbBackendProvider.config(ctx))) {
      StoreId kv = new StoreId(StoreKind.KEY_VALUE, "kv");
      e.write(List.of(new StorageEngine.Write(kv, bytes("a"), bytes("1"))), Durability.NORMAL);
      Thread.currentThread().interrupt(); // as stopAnchorBeat's shutdownNow during a beat
      try {
        e.upkeep().anchorBeatOnce();
      } finally {
        assertThat(Thread.interrupted()).as("the interrupt is kept for the beat's thread").isTrue();
      }
      assertThat(e.upkeep().health().isHealthy()).as(e.upkeep().health().getMessage()).isTrue();
      e.upkeep().anchorBeatOnce();
      assertThat(Anchor.read(dir, "test").sequence()).isGreaterThanOrEqualTo(2);
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
