package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.codahale.metrics.MetricRegistry;
import io.cairn.persistence.Durability;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.StorageBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 7 (recovery): a RocksDB backend on a full disk fails writes cleanly, and once space
 * is freed, writes resume without a restart, and close and reopen work. On a real size-limited file
 * system: a 24 MiB tmpfs mounted for the test, which needs root (skipped with a message otherwise).
 */
class RocksDbDiskFullTest {
  /** Health's free-space warning (default 64MiB) would never clear on a 24 MiB file system. */
  private static final String TINY_DISK = "min-free-space = 1MiB";

  @TempDir Path work;
  private Path mount;

  @AfterEach
  void unmount() throws Exception {
    if (mount != null) {
      run("umount", "-l", mount.toString());
    }
  }

  /**
   * Mounts a 24 MiB tmpfs at {@code work/small} (skips the test with a message when not root) and
   * fills 8 MiB of it; returns the filler file, whose deletion frees the space again.
   */
  private Path mountSmallFileSystemWithFiller() throws Exception {
    mount = work.resolve("small");
    Files.createDirectories(mount);
    assumeTrue(
        "root".equals(System.getProperty("user.name"))
            && run("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mount.toString()) == 0,
        "needs root to mount a size-limited tmpfs; skipped (run the tests as root to cover a real"
            + " full disk)");
    Path filler = mount.resolve("filler");
    Files.write(filler, new byte[8 << 20]);
    return filler;
  }

  @Test
  void writesResumeAfterSpaceIsFreedAndCloseAndReopenWork() throws Exception {
    Path filler = mountSmallFileSystemWithFiller();
    Path dir = mount.resolve("db");
    StorageBackend be =
        Rocks.open(dir, Durability.FULL, TINY_DISK, new MetricRegistry(), Clock.systemUTC());
    byte[] value = new byte[64 * 1024];
    int written = 0;
    PersistenceException full = null;
    for (int i = 0; i < 10_000 && full == null; i++) {
      try {
        be.keyValue("k").put(b("key" + i), value);
        be.log("l").append(b("rec" + i));
        written = i + 1;
      } catch (PersistenceException e) {
        full = e;
      }
    }
    assertThat(full).as("the disk filled up").isNotNull();
    System.out.println("disk full after " + written + " writes: " + full.getMessage());
    assertThat(full.getMessage()).containsIgnoringCase("space");
    assertThat(be.health().isHealthy()).isFalse();

    Files.delete(filler); // space is back
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    PersistenceException last = null;
    boolean resumed = false;
    while (!resumed && System.nanoTime() < deadline) {
      try {
        be.keyValue("k").put(b("after"), b("space is back"));
        be.log("l").append(b("after"));
        resumed = true;
      } catch (PersistenceException e) {
        last = e;
        Thread.sleep(200);
      }
    }
    assertThat(resumed).as("writes resume without a restart; last error: %s", last).isTrue();
    assertThat(be.health().isHealthy()).as(be.health().getMessage()).isTrue();
    be.close();

    try (StorageBackend again =
        Rocks.open(dir, Durability.FULL, TINY_DISK, new MetricRegistry(), Clock.systemUTC())) {
      assertThat(again.keyValue("k").get(b("after"))).isNotNull();
      for (int i = 0; i < written; i++) {
        assertThat(again.keyValue("k").get(b("key" + i))).as("key" + i).isNotNull();
      }
      assertThat(again.log("l").nextOffset()).isEqualTo(written + 1L);
    }
  }

  @Test
  void closeOnAFullDiskKeepsTheDataAndReopenWorksOnceSpaceIsBack() throws Exception {
    Path filler = mountSmallFileSystemWithFiller();
    Path dir = mount.resolve("db");
    StorageBackend be =
        Rocks.open(dir, Durability.FULL, TINY_DISK, new MetricRegistry(), Clock.systemUTC());
    int written = 0;
    try {
      for (int i = 0; i < 10_000; i++) {
        be.keyValue("k").put(b("key" + i), new byte[64 * 1024]);
        written = i + 1;
      }
    } catch (PersistenceException e) {
      // full
    }
    be.close(); // the data is in the WAL: close releases everything and does not throw
    Files.delete(filler);
    try (StorageBackend again =
        Rocks.open(dir, Durability.FULL, TINY_DISK, new MetricRegistry(), Clock.systemUTC())) {
      for (int i = 0; i < written; i++) {
        assertThat(again.keyValue("k").get(b("key" + i))).as("key" + i).isNotNull();
      }
      again.keyValue("k").put(b("after"), b("ok"));
    }
  }

  private static int run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    int rc = p.waitFor();
    if (rc != 0) {
      System.out.println(String.join(" ", cmd) + " -> " + rc + ": " + out);
    }
    return rc;
  }
}
