package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StoreCorruptedException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damage to {@code cairn.db-wal} after a crash (issue 10 item 3). A crash image is the backend's
 * files copied while it is open at durability full (every acknowledged commit is in the WAL, none
 * checkpointed), then damaged and opened. SQLite alone would replay the WAL up to the damage and
 * open with the later commits silently gone.
 */
class WalDamageTest {
  private static final int WRITES = 300;

  @TempDir Path live;
  @TempDir Path image;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static final String SETTINGS =
      "durability = full, sweeper-interval = 0s, wal-autocheckpoint-pages = 100000";

  /** Writes WRITES acknowledged puts, copies the files as a crash would leave them. */
  private void crashImage() throws Exception {
    try (PersistenceRegistry r = TestBackends.open(live, SETTINGS)) {
      KeyValueStore kv = r.backend("main").keyValue("data");
      for (int i = 0; i < WRITES; i++) {
        kv.put(b("key-" + i), b("value-" + i));
      }
      r.backend("main").log("events").append(b("last"));
      try (Stream<Path> files = Files.list(live)) {
        for (Path f : files.toList()) {
          String n = f.getFileName().toString();
          if (n.startsWith("cairn.db")) {
            Files.copy(f, image.resolve(n));
          }
        }
      }
    }
    assertThat(Files.size(wal())).as("WAL of the crash image").isGreaterThan(100 * 4096L);
  }

  private Path wal() {
    return image.resolve("cairn.db-wal");
  }

  private void assertAllPresent() {
    try (PersistenceRegistry r = TestBackends.open(image, SETTINGS)) {
      KeyValueStore kv = r.backend("main").keyValue("data");
      for (int i = 0; i < WRITES; i++) {
        assertThat(kv.get(b("key-" + i))).as("key-%d", i).isEqualTo(b("value-" + i));
      }
      assertThat(r.backend("main").log("events").read(0, 1)).hasSize(1);
      assertThat(r.backend("main").verify(Progress.NONE).problems()).isEmpty();
    }
  }

  private void assertRefused(String... messageParts) throws Exception {
    byte[] walBefore = Files.exists(wal()) ? Files.readAllBytes(wal()) : null;
    var thrown =
        assertThatThrownBy(() -> TestBackends.open(image, SETTINGS))
            .isInstanceOf(StoreCorruptedException.class)
            .hasMessageContaining("cairn.db-wal")
            .hasMessageContaining("on-wal-loss = accept");
    for (String part : messageParts) {
      thrown.hasMessageContaining(part);
    }
    if (walBefore != null) {
      assertThat(Files.readAllBytes(wal()))
          .as("WAL unchanged by the refused open")
          .isEqualTo(walBefore);
    }
  }

  @Test
  void intactCrashImageOpensWithEverything() throws Exception {
    crashImage();
    assertAllPresent();
  }

  @Test
  void tornTailOfGarbageIsAcceptedAsACrashArtifact() throws Exception {
    crashImage();
    byte[] garbage = new byte[4096 + 24 + 1000];
    new Random(1).nextBytes(garbage);
    Files.write(wal(), garbage, java.nio.file.StandardOpenOption.APPEND);
    assertAllPresent();
  }

  @Test
  void flippedByteInTheMiddleOfTheWalIsDetected() throws Exception {
    crashImage();
    long frames = (Files.size(wal()) - 32) / (4096 + 24);
    try (RandomAccessFile f = new RandomAccessFile(wal().toFile(), "rw")) {
      long pos = 32 + (frames / 2) * (4096 + 24) + 24 + 2000; // page data of a middle frame
      f.seek(pos);
      int v = f.read();
      f.seek(pos);
      f.write(v ^ 0x10);
    }
    assertRefused("fails its checksum", "committed transaction(s) follow it");
  }

  @Test
  void deletedWalIsDetected() throws Exception {
    crashImage();
    Files.delete(wal());
    assertRefused("is missing", "not yet copied into cairn.db");
  }

  @Test
  void deletedWalAndShmAreDetected() throws Exception {
    crashImage();
    Files.delete(wal());
    Files.deleteIfExists(image.resolve("cairn.db-shm"));
    assertRefused("is missing");
  }

  @Test
  void truncatedWalIsDetected() throws Exception {
    crashImage();
    try (RandomAccessFile f = new RandomAccessFile(wal().toFile(), "rw")) {
      f.setLength(32 + 20L * (4096 + 24));
    }
    assertRefused("were committed");
  }

  @Test
  void quarantineAndAcceptFollowTheirSettings() throws Exception {
    crashImage();
    Files.delete(wal());
    try (PersistenceRegistry r = TestBackends.open(image, SETTINGS + ", on-wal-loss = accept")) {
      assertThat(
              r.metrics()
                  .getCounters()
                  .get("cairn.backends.main.sqlite.wal-loss-accepted")
                  .getCount())
          .isEqualTo(1);
      r.backend("main").keyValue("data").put(b("new"), b("n"));
    }
    // the loss was accepted once; the next open is clean
    try (PersistenceRegistry r = TestBackends.open(image, SETTINGS)) {
      assertThat(r.backend("main").keyValue("data").get(b("new"))).isEqualTo(b("n"));
    }
  }

  @Test
  void quarantineMovesTheDamagedFilesAside() throws Exception {
    crashImage();
    Files.delete(wal());
    try (PersistenceRegistry r =
        TestBackends.open(image, SETTINGS + ", on-corruption = quarantine")) {
      assertThat(r.backend("main").keyValue("data").get(b("key-0"))).isNull();
    }
    // the shared quarantine rule (DataDirectory): corrupt-<UTC stamp>/ holds the engine's files,
    // the commit mark among them
    try (Stream<Path> files = Files.list(image)) {
      Path moved =
          files.filter(p -> p.getFileName().toString().startsWith("corrupt-")).findFirst().get();
      assertThat(moved.resolve("cairn.db-mark")).exists();
    }
  }

  @Test
  void cleanCloseLeavesAnEmptyWalAndACleanMark() throws Exception {
    try (PersistenceRegistry r = TestBackends.open(live, SETTINGS)) {
      for (int i = 0; i < 50; i++) {
        r.backend("main").keyValue("data").put(b("k" + i), b("v"));
      }
    }
    Path wal = live.resolve("cairn.db-wal");
    assertThat(!Files.exists(wal) || Files.size(wal) == 0).as("WAL empty after close").isTrue();
    WalGuard.Mark mark =
        WalGuard.readMark(live.resolve("cairn.db-mark"), new java.util.ArrayList<>());
    assertThat(mark).isNotNull();
    assertThat(mark.clean()).isTrue();
    // deleting the (empty) WAL of a cleanly closed database loses nothing and opens
    Files.deleteIfExists(wal);
    try (PersistenceRegistry r = TestBackends.open(live, SETTINGS)) {
      assertThat(r.backend("main").keyValue("data").get(b("k49"))).isEqualTo(b("v"));
    }
  }

  @Test
  void aDeletedOrEmptiedDatabaseFileIsNotAFirstStart() throws Exception {
    try (PersistenceRegistry r = TestBackends.open(live, SETTINGS)) {
      r.backend("main").keyValue("data").put(b("k"), b("v"));
    }
    Path db = live.resolve("cairn.db");
    Files.write(db, new byte[0]);
    assertThatThrownBy(() -> TestBackends.open(live, SETTINGS))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("cairn.db is empty")
        .hasMessageContaining("delete cairn.db-mark");
    Files.delete(db);
    assertThatThrownBy(() -> TestBackends.open(live, SETTINGS))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("cairn.db is missing");
    // the documented way to start over
    Files.delete(live.resolve("cairn.db-mark"));
    try (PersistenceRegistry r = TestBackends.open(live, SETTINGS)) {
      assertThat(r.backend("main").keyValue("data").get(b("k"))).isNull();
    }
  }
}
