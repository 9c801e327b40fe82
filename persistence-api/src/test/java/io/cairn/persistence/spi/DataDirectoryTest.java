package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageEngineException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data-directory layer: lock, permissions, links, foreign files, quarantine, health. */
class DataDirectoryTest {
  private static final Predicate<String> ENGINE = n -> n.startsWith("engine");
  private static final Clock FIXED =
      Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);

  @TempDir Path tmp;

  private static BackendContext ctx(Path dir, Durability durability) {
    return BackendContext.builder("main", "test")
        .dataDir(dir)
        .durability(durability)
        .clock(FIXED)
        .build();
  }

  private static DataDirectory open(Path dir) {
    return DataDirectory.open(ctx(dir, Durability.FULL), DataDirectory.Options.DEFAULTS, ENGINE);
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void createsThePrivateDirectoryAndAnOwnerLockFile() throws IOException {
    Path dir = tmp.resolve("a/b/data");
    try (DataDirectory d = open(dir)) {
      assertThat(d.path()).isEqualTo(dir.toRealPath());
      assertThat(mode(dir)).isEqualTo("rwx------");
      assertThat(mode(dir.getParent())).isEqualTo("rwx------"); // created by Cairn too
      Path lock = dir.resolve(DataDirectory.LOCK_FILE);
      assertThat(mode(lock)).isEqualTo("rw-------");
      assertThat(Files.readString(lock))
          .startsWith("pid=" + ProcessHandle.current().pid() + " host=" + DataDirectory.hostName())
          .contains("backend=main type=test since=2026-01-02T03:04:05Z");
      Path f = d.createPrivateFile("engine.db");
      assertThat(mode(f)).isEqualTo("rw-------");
    }
  }

  @Test
  void tightensALooseExistingDirectoryAndItsFiles() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("loose"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path f = Files.writeString(dir.resolve("engine.sst"), "x");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw-rw-"));
    try (DataDirectory d = open(dir)) {
      assertThat(mode(dir)).isEqualTo("rwx------");
      assertThat(mode(f)).isEqualTo("rw-------");
      Path later = Files.writeString(dir.resolve("engine.log"), "y");
      Files.setPosixFilePermissions(later, PosixFilePermissions.fromString("rw-r--r--"));
      d.tightenPermissions();
      assertThat(mode(later)).isEqualTo("rw-------");
    }
  }

  @Test
  void aSecondOpenInThisProcessNamesTheHolderPidAndHost() {
    Path dir = tmp.resolve("d");
    try (DataDirectory d = open(dir)) {
      assertThatThrownBy(() -> open(dir))
          .isInstanceOf(BackendLockedException.class)
          .hasMessageContaining(d.path().toString())
          .hasMessageContaining("pid " + ProcessHandle.current().pid())
          .hasMessageContaining("host " + DataDirectory.hostName());
    }
    open(dir).close(); // released
  }

  @Test
  void lockTimeoutWaitsForTheHolder() throws Exception {
    Path dir = tmp.resolve("d");
    DataDirectory first = open(dir);
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
    DataDirectory.Options wait =
        new DataDirectory.Options(Duration.ofSeconds(60), false, 64L << 20);
    try (DataDirectory second = DataDirectory.open(ctx(dir, Durability.FULL), wait, ENGINE)) {
      assertThat(second.path()).isEqualTo(first.path());
    }
    release.get(60, TimeUnit.SECONDS);
  }

  @Test
  void lockTimeoutIsReadFromTheBackendSettings() {
    List<ConfigProblem> problems = new ArrayList<>();
    DataDirectory.Options o =
        DataDirectory.Options.read(
            new Settings(
                ConfigFactory.parseString(
                    "lock-timeout = 5s, allow-foreign-files = true, min-free-space = 1GiB"),
                "cairn.backends.x",
                problems));
    assertThat(problems).isEmpty();
    assertThat(o).isEqualTo(new DataDirectory.Options(Duration.ofSeconds(5), true, 1L << 30));
    DataDirectory.Options.read(
        new Settings(
            ConfigFactory.parseString("lock-timeout = -1s"), "cairn.backends.x", problems));
    assertThat(problems).hasSize(1);
    assertThat(problems.get(0).toString()).contains("cairn.backends.x.lock-timeout");
  }

  @Test
  void aPlantedLockFileLinkIsRefusedAndItsTargetUntouched() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("d"));
    Path victim = Files.writeString(tmp.resolve("victim.txt"), "precious");
    Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-r--r--"));
    Files.createSymbolicLink(dir.resolve(DataDirectory.LOCK_FILE), victim);
    assertThatThrownBy(() -> open(dir))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("symbolic link " + dir.toRealPath().resolve("cairn.lock"))
        .hasMessageContaining("-> " + victim)
        .hasMessageContaining("Remove the link");
    assertThat(Files.readString(victim)).isEqualTo("precious");
    assertThat(mode(victim)).isEqualTo("rw-r--r--");
  }

  @Test
  void anyOtherLinkIsRefusedAndNoTargetIsChmodded() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("d"));
    Path victim = Files.writeString(tmp.resolve("victim.txt"), "x");
    Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-r--r--"));
    Files.createSymbolicLink(dir.resolve("engine.db"), victim);
    DataDirectory.Options force = new DataDirectory.Options(Duration.ZERO, true, 0);
    assertThatThrownBy(() -> DataDirectory.open(ctx(dir, Durability.FULL), force, ENGINE))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("engine.db -> " + victim);
    assertThat(mode(victim)).isEqualTo("rw-r--r--");
    assertThat(dir.resolve(DataDirectory.LOCK_FILE)).doesNotExist(); // refused before touching
  }

  @Test
  void createPrivateFileNeverFollowsALinkPlantedAfterOpen() throws IOException {
    Path dir = tmp.resolve("d");
    Path victim = Files.writeString(tmp.resolve("victim.txt"), "x");
    try (DataDirectory d = open(dir)) {
      Files.createSymbolicLink(dir.resolve("engine.db"), victim);
      assertThatThrownBy(() -> d.createPrivateFile("engine.db"))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("symbolic link");
      assertThat(Files.readString(victim)).isEqualTo("x");
    }
  }

  @Test
  void aDataDirectoryLinkItselfIsResolvedAndUsed() throws IOException {
    Path real = Files.createDirectory(tmp.resolve("real"));
    Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
    try (DataDirectory d = open(link)) {
      assertThat(d.path()).isEqualTo(real.toRealPath());
      assertThat(real.resolve(DataDirectory.LOCK_FILE)).exists();
    }
  }

  @Test
  void foreignFilesAreRefusedUnlessAllowed() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("d"));
    Files.writeString(dir.resolve("notes.txt"), "mine");
    Files.writeString(dir.resolve("engine.db"), "");
    assertThatThrownBy(() -> open(dir))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("holds files Cairn did not create: [notes.txt]")
        .hasMessageContaining("allow-foreign-files = true");
    assertThat(dir.resolve(DataDirectory.LOCK_FILE)).doesNotExist();
    DataDirectory.Options force = new DataDirectory.Options(Duration.ZERO, true, 0);
    DataDirectory.open(ctx(dir, Durability.FULL), force, ENGINE).close();
  }

  @Test
  void theRootAndTheHomeDirectoryAreRefused() {
    assertThatThrownBy(() -> open(Path.of("/")))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("the root of the file system");
    String home = System.getProperty("user.home");
    Path fakeHome = tmp.resolve("home");
    System.setProperty("user.home", fakeHome.toString());
    try {
      assertThatThrownBy(() -> open(fakeHome))
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining("home directory");
      assertThat(fakeHome).doesNotExist();
    } finally {
      System.setProperty("user.home", home);
    }
  }

  @Test
  void quarantineMovesEngineFilesIntoOneStampedDirectory() throws IOException {
    Path dir = tmp.resolve("d");
    try (DataDirectory d = open(dir)) {
      d.createPrivateFile("engine.db");
      d.createPrivateFile("engine.db-wal");
      Path q = d.quarantine(d.engineEntries());
      assertThat(q.getFileName().toString()).isEqualTo("corrupt-20260102T030405Z");
      assertThat(q.resolve("engine.db")).exists();
      assertThat(q.resolve("engine.db-wal")).exists();
      assertThat(dir.resolve("engine.db")).doesNotExist();
      assertThat(mode(q)).isEqualTo("rwx------");
      assertThat(d.engineEntries()).isEmpty();
      d.createPrivateFile("engine.db");
      assertThat(d.quarantine(List.of("engine.db")).getFileName().toString())
          .isEqualTo("corrupt-20260102T030405Z-2");
    }
    assertThat(DataDirectory.quarantineName(FIXED.instant())).isEqualTo("corrupt-20260102T030405Z");
    open(dir).close(); // quarantine directories are Cairn's own, not foreign
  }

  @Test
  void aDeletedDirectoryFailsTheNextFullWriteAndHealth() throws IOException {
    Path dir = tmp.resolve("d");
    try (DataDirectory d = open(dir)) {
      d.beforeWrite();
      assertThat(d.problem()).isEmpty();
      deleteTree(dir);
      assertThatThrownBy(d::beforeWrite)
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining(d.path().toString())
          .hasMessageContaining("was deleted");
      assertThat(d.problem()).get().asString().contains("was deleted");
      Files.createDirectories(dir); // recreating it does not bring the data back
      assertThatThrownBy(d::beforeWrite).isInstanceOf(StorageEngineException.class);
    }
  }

  @Test
  void aReplacedDirectoryFailsTheNextFullWrite() throws IOException {
    Path dir = tmp.resolve("d");
    try (DataDirectory d = open(dir)) {
      d.beforeWrite();
      Files.move(dir, tmp.resolve("moved"));
      Files.createDirectory(dir);
      Files.writeString(dir.resolve(DataDirectory.LOCK_FILE), ""); // a lock file, but another one
      assertThatThrownBy(d::beforeWrite)
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining("was replaced");
    }
  }

  @Test
  void aDeletedLockFileFailsTheNextFullWrite() throws IOException {
    Path dir = tmp.resolve("d");
    try (DataDirectory d = open(dir)) {
      d.beforeWrite();
      Files.delete(dir.resolve(DataDirectory.LOCK_FILE));
      assertThatThrownBy(d::beforeWrite)
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining("was deleted");
    }
  }

  @Test
  void aReplacedDirectoryIsNoticedByHealthAtNormal() throws IOException {
    Path dir = tmp.resolve("d");
    try (DataDirectory d =
        DataDirectory.open(ctx(dir, Durability.NORMAL), DataDirectory.Options.DEFAULTS, ENGINE)) {
      for (int i = 0; i < 1000; i++) {
        d.beforeWrite(); // between presence checks a write costs a volatile read and passes
      }
      Files.move(dir, tmp.resolve("moved"));
      Files.createDirectory(dir);
      Files.writeString(dir.resolve(DataDirectory.LOCK_FILE), "");
      assertThat(d.problem()).get().asString().contains("was replaced");
      assertThat(d.failed()).isTrue();
      assertThatThrownBy(d::beforeWrite).hasMessageContaining("was replaced");
    }
  }

  @Test
  void failRefusesEveryWriteUntilReopened() {
    Path dir = tmp.resolve("d");
    try (DataDirectory d = open(dir)) {
      d.fail("commit (fsync)", new IOException("Input/output error"));
      d.fail("second", null); // the first reason is kept
      assertThatThrownBy(d::beforeWrite)
          .isInstanceOf(StorageEngineException.class)
          .hasMessageContaining("refuses writes: commit (fsync): Input/output error")
          .hasMessageContaining("Close and reopen");
      assertThatThrownBy(d::beforeWrite).hasMessageContaining("commit (fsync)");
      assertThat(d.problem()).get().asString().contains("Input/output error");
    }
    try (DataDirectory d = open(dir)) {
      d.beforeWrite();
      assertThat(d.failed()).isFalse();
    }
  }

  @Test
  void healthReportsFreeSpaceBelowTheThreshold() {
    Path dir = tmp.resolve("d");
    DataDirectory.Options tight = new DataDirectory.Options(Duration.ZERO, false, Long.MAX_VALUE);
    try (DataDirectory d = DataDirectory.open(ctx(dir, Durability.FULL), tight, ENGINE)) {
      assertThat(d.problem())
          .get()
          .asString()
          .contains("free, below min-free-space")
          .contains(d.path().toString());
      d.beforeWrite(); // low space is reported, not refused: the engine's write says if it fails
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
