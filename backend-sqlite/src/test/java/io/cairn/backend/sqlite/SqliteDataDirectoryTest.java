package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SQLite backend on the shared data-directory layer: issue 10 items 6 (directory deleted while
 * open), 7 (health reports low disk space), 10 (root, home, foreign files) and issue 20 item 4
 * (symbolic links; a loose existing directory).
 */
class SqliteDataDirectoryTest {
  @TempDir Path tmp;

  private static byte[] b(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void deletedDirectoryFailsWritesAtFullAndHealthNamesIt() throws IOException {
    Path dir = tmp.resolve("data");
    try (PersistenceRegistry r = TestBackends.open(dir, "durability = full")) {
      StorageBackend be = r.backend("main");
      be.keyValue("k").put(b("a"), b("1"));
      assertThat(be.health().isHealthy()).isTrue();
      deleteTree(dir);
      assertThatThrownBy(() -> be.keyValue("k").put(b("b"), b("2")))
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining(dir.toString())
          .hasMessageContaining("was deleted");
      HealthCheck.Result h = be.health();
      assertThat(h.isHealthy()).isFalse();
      assertThat(h.getMessage()).contains(dir.toString()).contains("was deleted");
    }
  }

  @Test
  void deletedDirectoryMakesHealthUnhealthyAtNormalAndThenRefusesWrites() throws IOException {
    Path dir = tmp.resolve("data");
    try (PersistenceRegistry r = TestBackends.open(dir, "durability = normal")) {
      StorageBackend be = r.backend("main");
      be.keyValue("k").put(b("a"), b("1"));
      deleteTree(dir);
      assertThat(be.health().isHealthy()).isFalse();
      assertThatThrownBy(() -> be.keyValue("k").put(b("b"), b("2")))
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining("refuses writes");
    }
  }

  @Test
  void healthReportsFreeSpaceBelowMinFreeSpace() {
    // A full disk cannot be made in-process without root and a small file system; the threshold
    // is the same code path: set it above the free space of any real disk.
    try (PersistenceRegistry r =
        TestBackends.open(tmp.resolve("data"), "min-free-space = 1000PiB")) {
      HealthCheck.Result h = r.backend("main").health();
      assertThat(h.isHealthy()).isFalse();
      assertThat(h.getMessage()).contains("min-free-space").contains("free");
    }
  }

  @Test
  void plantedLockLinkIsRefusedAndItsTargetKept() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("data"));
    Path victim = Files.writeString(tmp.resolve("victim"), "precious");
    Files.createSymbolicLink(dir.resolve("cairn.lock"), victim);
    assertThatThrownBy(() -> TestBackends.open(dir, ""))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("symbolic link")
        .hasMessageContaining(victim.toString());
    assertThat(Files.readString(victim)).isEqualTo("precious");
  }

  @Test
  void databaseLinkIsRefusedAndItsTargetNotTurnedIntoADatabase() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("data"));
    Path victim = Files.createFile(tmp.resolve("empty"));
    Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-r--r--"));
    Files.createSymbolicLink(dir.resolve("cairn.db"), victim);
    assertThatThrownBy(() -> TestBackends.open(dir, ""))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("cairn.db -> " + victim);
    assertThat(Files.size(victim)).isZero();
    assertThat(mode(victim)).isEqualTo("rw-r--r--");
  }

  @Test
  void looseExistingDirectoryAndFilesAreTightened() throws IOException {
    Path dir = tmp.resolve("data");
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      r.backend("main").keyValue("k").put(b("a"), b("1"));
    }
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    Files.setPosixFilePermissions(
        dir.resolve("cairn.db"), PosixFilePermissions.fromString("rw-rw-rw-"));
    try (PersistenceRegistry r = TestBackends.open(dir, "")) {
      assertThat(mode(dir)).isEqualTo("rwx------");
      try (Stream<Path> files = Files.list(dir)) {
        for (Path f : files.toList()) {
          assertThat(mode(f)).as(f.toString()).isEqualTo("rw-------");
        }
      }
    }
  }

  @Test
  void foreignFilesAreRefusedUnlessAllowed() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("data"));
    Files.writeString(dir.resolve("report.pdf"), "not Cairn's");
    assertThatThrownBy(() -> TestBackends.open(dir, ""))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("holds files Cairn did not create: [report.pdf]");
    assertThat(dir.resolve("cairn.db")).doesNotExist();
    try (PersistenceRegistry r = TestBackends.open(dir, "allow-foreign-files = true")) {
      r.backend("main").keyValue("k").put(b("a"), b("1"));
    }
  }

  @Test
  void fileSystemRootIsRefusedWithoutWritingThere() {
    boolean before = Files.exists(Path.of("/cairn.db"));
    assertThatThrownBy(() -> TestBackends.open(Path.of("/"), ""))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("root of the file system");
    assertThat(Files.exists(Path.of("/cairn.db"))).isEqualTo(before);
  }

  @Test
  void lockTimeoutWaitsForTheHolderAndTheMessageNamesPidAndHost() throws Exception {
    Path dir = tmp.resolve("data");
    PersistenceRegistry first = TestBackends.open(dir, "");
    assertThatThrownBy(() -> TestBackends.open(dir, ""))
        .isInstanceOf(BackendLockedException.class)
        .hasMessageContaining("pid " + ProcessHandle.current().pid())
        .hasMessageContaining("host ");
    CompletableFuture<Void> release =
        CompletableFuture.runAsync(
            () -> {
              try {
                Thread.sleep(300);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              first.close();
            });
    try (PersistenceRegistry second = TestBackends.open(dir, "lock-timeout = 60s")) {
      second.backend("main").keyValue("k").put(b("a"), b("1"));
    }
    release.get(60, TimeUnit.SECONDS);
  }

  static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
