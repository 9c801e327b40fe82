package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StorageEngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RocksDB backend on the shared data-directory layer: issue 10 items 6, 7 (health), 8 (every
 * file 0600 while open, not only after close), 10, and issue 20 item 4 (symbolic links).
 */
class RocksDbDataDirectoryTest {
  @TempDir Path tmp;

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  /** Files in {@code dir} (and quarantine subdirectories) whose mode is not 0600. */
  private static List<String> looseFiles(Path dir) throws IOException {
    List<String> loose = new ArrayList<>();
    Files.walkFileTree(
        dir,
        new java.nio.file.SimpleFileVisitor<>() {
          @Override
          public java.nio.file.FileVisitResult preVisitDirectory(
              Path d, java.nio.file.attribute.BasicFileAttributes attrs) throws IOException {
            check(d);
            return java.nio.file.FileVisitResult.CONTINUE;
          }

          @Override
          public java.nio.file.FileVisitResult visitFile(
              Path f, java.nio.file.attribute.BasicFileAttributes attrs) throws IOException {
            check(f);
            return java.nio.file.FileVisitResult.CONTINUE;
          }

          @Override
          public java.nio.file.FileVisitResult visitFileFailed(Path f, IOException e)
              throws IOException {
            if (e instanceof java.nio.file.NoSuchFileException) {
              return java.nio.file.FileVisitResult.CONTINUE; // removed by a compaction meanwhile
            }
            throw e;
          }

          private void check(Path p) throws IOException {
            try {
              if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
                  && !mode(p).equals("rw-------")) {
                loose.add(dir.relativize(p) + " " + mode(p));
              } else if (Files.isDirectory(p) && !mode(p).equals("rwx------")) {
                loose.add(dir.relativize(p) + "/ " + mode(p));
              }
            } catch (java.nio.file.NoSuchFileException deleted) {
              // an obsolete file RocksDB removed meanwhile
            }
          }
        });
    return loose;
  }

  /** Polls for up to 30 s: the listener runs on RocksDB's background thread. */
  private static void assertAllPrivate(Path dir, String when) throws Exception {
    List<String> loose = looseFiles(dir);
    for (int i = 0; i < 300 && !loose.isEmpty(); i++) {
      Thread.sleep(100);
      loose = looseFiles(dir);
    }
    assertThat(loose).as("files not 0600 / dirs not 0700 " + when).isEmpty();
  }

  @Test
  void everyFileIs0600AfterWritesFlushCompactionAndReopen() throws Exception {
    Path dir = tmp.resolve("db");
    // small memtables so that writes flush and compact on their own, while open
    String hocon = "advanced.cf-options { write_buffer_size = \"65536\" }, sweeper-interval = 0s";
    try (StorageBackend be =
        Rocks.open(dir, Durability.NORMAL, hocon, new MetricRegistry(), Clock.systemUTC())) {
      KeyValueStore kv = be.keyValue("k");
      byte[] value = new byte[512];
      for (int i = 0; i < 3000; i++) {
        kv.put(b("key-" + i), value);
      }
      be.log("l").append(b("x"));
      assertThat(Files.list(dir).anyMatch(p -> p.toString().endsWith(".sst")))
          .as("the writes were flushed to SST files while open")
          .isTrue();
      assertAllPrivate(dir, "after writes and automatic flushes");
      be.compact(Progress.NONE);
      assertAllPrivate(dir, "after compaction");
    }
    assertAllPrivate(dir, "after close");
    try (StorageBackend be = Rocks.open(dir)) {
      be.keyValue("k").put(b("more"), b("x"));
      assertAllPrivate(dir, "after reopen and a write");
    }
  }

  @Test
  void deletedDirectoryFailsWritesAtFullAndHealthNamesIt() throws IOException {
    Path dir = tmp.resolve("db");
    try (StorageBackend be =
        Rocks.open(dir, Durability.FULL, "", new MetricRegistry(), Clock.systemUTC())) {
      be.keyValue("k").put(b("a"), b("1"));
      assertThat(be.health().isHealthy()).isTrue();
      deleteTree(dir);
      assertThatThrownBy(() -> be.keyValue("k").put(b("b"), b("2")))
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining(dir.toString())
          .hasMessageContaining("was deleted");
      assertThatThrownBy(() -> be.log("l").append(b("x")))
          .isInstanceOf(StorageEngineException.class);
      HealthCheck.Result h = be.health();
      assertThat(h.isHealthy()).isFalse();
      assertThat(h.getMessage()).contains(dir.toString());
    } catch (StorageEngineException closeFailure) {
      // closing a database whose directory is gone may fail too; that is reported, not hidden
      assertThat(closeFailure.getMessage()).isNotBlank();
    }
  }

  @Test
  void healthReportsFreeSpaceBelowMinFreeSpace() {
    try (StorageBackend be = Rocks.open(tmp.resolve("db"), "min-free-space = 1000PiB")) {
      HealthCheck.Result h = be.health();
      assertThat(h.isHealthy()).isFalse();
      assertThat(h.getMessage()).contains("min-free-space");
    }
  }

  @Test
  void plantedOwnerAndLockLinksAreRefusedAndTheirTargetsKept() throws IOException {
    for (String name : List.of("cairn.lock", "CAIRN-OWNER", "000007.sst", "LOCK")) {
      Path dir = Files.createDirectories(tmp.resolve("db-" + name));
      Path victim = Files.writeString(tmp.resolve("victim-" + name), "precious");
      Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-r--r--"));
      Files.createSymbolicLink(dir.resolve(name), victim);
      assertThatThrownBy(() -> Rocks.open(dir))
          .as(name)
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining(name + " -> " + victim);
      assertThat(Files.readString(victim)).as(name).isEqualTo("precious");
      assertThat(mode(victim)).as(name + ": no chmod through a link").isEqualTo("rw-r--r--");
    }
  }

  @Test
  void looseExistingDirectoryIsTightened() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("db"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    try (StorageBackend be = Rocks.open(dir)) {
      assertThat(mode(dir)).isEqualTo("rwx------");
    }
  }

  @Test
  void foreignFilesAndTheRootAreRefused() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("db"));
    Files.writeString(dir.resolve("photo.jpg"), "x");
    assertThatThrownBy(() -> Rocks.open(dir))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("[photo.jpg]");
    assertThat(dir.resolve("CURRENT")).doesNotExist();
    Rocks.open(dir, "allow-foreign-files = true").close();
    assertThatThrownBy(() -> Rocks.open(Path.of("/")))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("root of the file system");
  }

  @Test
  void secondOpenNamesTheHolderPidAndHostAndLockTimeoutWaits() throws Exception {
    Path dir = tmp.resolve("db");
    StorageBackend first = Rocks.open(dir);
    assertThatThrownBy(() -> Rocks.open(dir))
        .isInstanceOf(BackendLockedException.class)
        .hasMessageContaining("pid " + ProcessHandle.current().pid())
        .hasMessageContaining("host ");
    Thread closer =
        new Thread(
            () -> {
              try {
                Thread.sleep(300);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              first.close();
            });
    closer.start();
    try (StorageBackend second = Rocks.open(dir, "lock-timeout = 60s")) {
      second.keyValue("k").put(b("a"), b("1"));
    }
    closer.join(60_000);
  }

  @Test
  void quarantineKeepsTheLockAndNamesTheDirectoryByTheContextClock() throws IOException {
    Path dir = tmp.resolve("db");
    try (StorageBackend be = Rocks.open(dir)) {
      be.keyValue("k").put(b("a"), b("1"));
    }
    Files.writeString(dir.resolve("CURRENT"), "garbage-without-newline");
    Clock fixed =
        Clock.fixed(java.time.Instant.parse("2026-03-04T05:06:07Z"), java.time.ZoneOffset.UTC);
    try (StorageBackend be =
        Rocks.open(
            dir, Durability.NORMAL, "on-corruption = quarantine", new MetricRegistry(), fixed)) {
      assertThat(be.stats().properties().get("quarantined-to"))
          .isEqualTo(dir.toRealPath().resolve("corrupt-20260304T050607Z").toString());
      assertThat(dir.resolve("corrupt-20260304T050607Z/CURRENT"))
          .hasContent("garbage-without-newline");
      assertThat(dir.resolve("cairn.lock")).exists();
    }
  }

  static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
