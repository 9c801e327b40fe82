package io.cairn.encryption;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files and directories Cairn creates are 0600 and 0700 whatever the umask: a child JVM started
 * under {@code umask 000} creates the keyset files (plain and password-protected, with its {@code
 * .kdf}), and encrypted SQLite and RocksDB backends with their key check records; every file is
 * 0600 and every directory 0700. The child's control file, made with plain {@code createFile},
 * comes out 0666: the umask really was 000.
 */
class FileModesTest {
  @TempDir Path dir;

  @Test
  void everyFileAndDirectoryCairnCreatesIsPrivateUnderUmask000() throws Exception {
    Path sh = Path.of("/bin/sh");
    org.junit.jupiter.api.Assumptions.assumeTrue(
        Files.isExecutable(sh), "needs /bin/sh to set the child's umask");
    List<String> cmd = new ArrayList<>();
    cmd.add(sh.toString());
    cmd.add("-c");
    cmd.add("umask 000; exec \"$0\" \"$@\"");
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(FileModesChild.class.getName());
    cmd.add(dir.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("CAIRN_FILE_MODES_PASSWORD", "child-password");
    Process p = pb.start();
    String out;
    try (var in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).as(out).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out).contains("DONE");

    assertThat(mode(dir.resolve("control"))).as("the umask was 000").isEqualTo("rw-rw-rw-");
    for (String f : new String[] {"keyset.json", "pw-keyset.json", "pw-keyset.json.kdf"}) {
      assertThat(mode(dir.resolve(f))).as(f).isEqualTo("rw-------");
    }
    for (String backend : new String[] {"s", "r"}) {
      Path data = dir.resolve("data").resolve(backend);
      assertThat(data.resolve("cairn.keycheck")).exists();
      List<String> loose = new ArrayList<>();
      try (Stream<Path> all = Files.walk(data)) {
        all.forEach(
            p2 -> {
              String m = mode(p2);
              boolean isDir = Files.isDirectory(p2, LinkOption.NOFOLLOW_LINKS);
              if (!m.equals(isDir ? "rwx------" : "rw-------")) {
                loose.add(p2 + " " + m);
              }
            });
      }
      assertThat(loose).as("files and directories of backend " + backend).isEmpty();
    }
  }

  private static String mode(Path p) {
    try {
      return PosixFilePermissions.toString(
          Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
