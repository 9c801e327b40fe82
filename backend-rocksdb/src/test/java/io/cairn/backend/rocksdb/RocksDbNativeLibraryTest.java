package io.cairn.backend.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.StorageBackend;
import io.cairn.tck.crash.ChildJvm;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20 item 8: rocksdbjni extracted its 17 MB native library into {@code java.io.tmpdir} at
 * every start, and a killed JVM left its copy there. Cairn extracts once into a per-user cache and
 * loads from it.
 */
class RocksDbNativeLibraryTest {
  private static final Duration STARTUP = Duration.ofSeconds(120);

  @TempDir Path work;

  /** Opens a backend in args[0], prints READY and waits to be killed. */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      try (StorageBackend be = Rocks.open(Path.of(args[0]))) {
        be.keyValue("k").put(Rocks.b("a"), Rocks.b("1"));
        System.out.println("INFLATIONS " + NativeLibrary.inflations());
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(600_000);
      }
    }
  }

  @Test
  void twoJvmsStartingAtOnceShareOneCachedCopyAndKilledJvmsLeaveNothingInTmp() throws Exception {
    Path tmp = Files.createDirectories(work.resolve("tmp"));
    Path cache = work.resolve("cache");
    List<ChildJvm> children = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        children.add(child(tmp, cache, work.resolve("db" + i), null));
      }
      for (ChildJvm c : children) {
        c.awaitLine(l -> l.equals("READY"), STARTUP);
      }
    } finally {
      for (ChildJvm c : children) {
        c.close(); // SIGKILL: no shutdown hooks, no deleteOnExit
      }
    }
    assertThat(names(tmp)).as("files left in java.io.tmpdir").noneMatch(n -> n.contains("rocksdb"));
    String lib = NativeLibrary.cachedFileName();
    assertThat(names(cache)).containsExactly(lib);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cache)))
        .isEqualTo("rwx------");

    // A third start reuses the copy: it is not rewritten.
    FileTime before = Files.getLastModifiedTime(cache.resolve(lib));
    Files.setLastModifiedTime(cache.resolve(lib), FileTime.fromMillis(before.toMillis() - 60_000));
    FileTime marked = Files.getLastModifiedTime(cache.resolve(lib));
    try (ChildJvm c = child(tmp, cache, work.resolve("db2"), null)) {
      c.awaitLine(l -> l.equals("READY"), STARTUP);
      // issue 15: and the library is not inflated out of the jar either (it was, to hash it)
      assertThat(c.output()).contains("INFLATIONS 0");
    }
    assertThat(Files.getLastModifiedTime(cache.resolve(lib))).isEqualTo(marked);
    assertThat(names(tmp)).noneMatch(n -> n.contains("rocksdb"));
  }

  @Test
  void aDamagedCachedCopyIsReplacedByAVerifiedOne() throws Exception {
    Path tmp = Files.createDirectories(work.resolve("tmp"));
    Path cache = Files.createDirectories(work.resolve("cache"));
    Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwx------"));
    String lib = NativeLibrary.cachedFileName();
    Files.writeString(cache.resolve(lib), "not a library");
    try (ChildJvm c = child(tmp, cache, work.resolve("db"), null)) {
      c.awaitLine(l -> l.equals("READY"), STARTUP);
    }
    assertThat(Files.size(cache.resolve(lib))).isGreaterThan(1_000_000);
    assertThat(names(tmp)).noneMatch(n -> n.contains("rocksdb"));
  }

  /**
   * Issue 15: the cached copy is checked against the CRC-32 and size the jar records (no longer a
   * SHA-256 of an inflated copy at every start), so a copy damaged in place, with its size kept, is
   * still found, named and replaced.
   */
  @Test
  void aCachedCopyChangedInPlaceIsNamedAndReplaced() throws Exception {
    Path tmp = Files.createDirectories(work.resolve("tmp"));
    Path cache = work.resolve("cache");
    try (ChildJvm c = child(tmp, cache, work.resolve("db0"), null)) {
      c.awaitLine(l -> l.equals("READY"), STARTUP);
      assertThat(c.output()).contains("INFLATIONS 1");
    }
    Path lib = cache.resolve(NativeLibrary.cachedFileName());
    long size = Files.size(lib);
    try (FileChannel ch =
        FileChannel.open(lib, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, size / 2);
      b.flip();
      byte flipped = (byte) (b.get(0) ^ 0x5a);
      ch.write(ByteBuffer.wrap(new byte[] {flipped}), size / 2);
    }
    NativeLibrary.Identity jar = NativeLibrary.identity(jarLibrary());
    assertThat(NativeLibrary.mismatch(lib, jar)).startsWith("CRC-32");
    try (ChildJvm c = child(tmp, cache, work.resolve("db1"), null)) {
      c.awaitLine(l -> l.equals("READY"), STARTUP);
      String out = String.join("\n", c.output());
      assertThat(out).contains("The cached rocksdbjni library " + lib).contains("CRC-32");
      assertThat(c.output()).contains("INFLATIONS 1");
    }
    assertThat(Files.size(lib)).isEqualTo(size);
    assertThat(NativeLibrary.mismatch(lib, jar)).isNull();
    assertThat(names(tmp)).noneMatch(n -> n.contains("rocksdb"));
  }

  /** Issue 15: a cache that cannot be made falls back to rocksdbjni's loader, named. */
  @Test
  void anUnusableCacheDirectoryFallsBackWithANamedWarning() throws Exception {
    Path tmp = Files.createDirectories(work.resolve("tmp"));
    Path notADir = Files.writeString(work.resolve("a-file"), "x");
    Path cache = notADir.resolve("cache"); // cannot be created, even by root
    try (ChildJvm c = child(tmp, cache, work.resolve("db"), null)) {
      c.awaitLine(l -> l.equals("READY"), STARTUP);
      String out = String.join("\n", c.output());
      assertThat(out)
          .contains("Could not load rocksdbjni's native library from Cairn's cache")
          .contains(notADir.toString())
          .contains(NativeLibrary.DIR_PROPERTY);
    }
  }

  private static java.net.URL jarLibrary() {
    java.net.URL url =
        org.rocksdb.RocksDB.class.getResource(
            "/" + org.rocksdb.util.Environment.getJniLibraryFileName("rocksdb"));
    assertThat(url).as("rocksdbjni's library for this platform").isNotNull();
    return url;
  }

  @Test
  void byDefaultTheCopyLivesInTheUsersCacheUnderAVersionedDirectory() throws Exception {
    Path tmp = Files.createDirectories(work.resolve("tmp"));
    Path home = Files.createDirectories(work.resolve("home"));
    try (ChildJvm c = child(tmp, null, work.resolve("db"), home)) {
      c.awaitLine(l -> l.equals("READY"), STARTUP);
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = (xdg != null && !xdg.isBlank() ? Path.of(xdg) : home.resolve(".cache"));
    List<String> dirs = names(base.resolve("cairn"));
    assertThat(dirs).anyMatch(n -> n.matches("rocksdbjni-11\\.8\\.1-[0-9a-f]{16}"));
    assertThat(names(tmp)).noneMatch(n -> n.contains("rocksdb"));
  }

  @Test
  void aCacheDirectoryWritableByOthersIsRefusedAndTheBackendStillStarts() throws Exception {
    Path tmp = Files.createDirectories(work.resolve("tmp"));
    Path cache = Files.createDirectories(work.resolve("cache"));
    Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwxrwxrwx"));
    try (ChildJvm c = child(tmp, cache, work.resolve("db"), null)) {
      c.awaitLine(l -> l.equals("READY"), STARTUP);
      assertThat(String.join("\n", c.output())).contains("writable by group or others");
    }
    assertThat(names(cache)).isEmpty();
  }

  private static ChildJvm child(Path tmp, Path cache, Path db, Path home) {
    ChildJvm.Builder b =
        ChildJvm.builder(Child.class).systemProperty("java.io.tmpdir", tmp.toString());
    if (cache != null) {
      b.systemProperty(NativeLibrary.DIR_PROPERTY, cache.toString());
    }
    if (home != null) {
      b.systemProperty("user.home", home.toString());
    }
    return b.args(db.toString()).start();
  }

  private static List<String> names(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
