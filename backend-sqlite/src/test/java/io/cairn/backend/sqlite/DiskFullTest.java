package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.StorageEngineException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full database (SQLITE_FULL, made deterministic with {@code PRAGMA max_page_count} on the writer
 * connection) fails the writes that do not fit, keeps everything acknowledged before, and writes
 * resume as soon as there is room again, without reopening the backend.
 */
class DiskFullTest {
  /** Health's free-space warning (default 64MiB) would never clear on a 20 MiB file system. */
  private static final String TINY_DISK_SETTINGS = "sweeper-interval = 0s, min-free-space = 1MiB";

  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static void limitPages(TestBackends.Direct be, long pages) {
    be.writer()
        .exclusive(
            "test: limit pages",
            s -> {
              s.conn().execOnce("PRAGMA max_page_count = " + pages);
              return null;
            });
  }

  private static long pageCount(TestBackends.Direct be) {
    return be.writer().exclusive("test: page count", s -> s.conn().queryLong("PRAGMA page_count"));
  }

  @Test
  void writesResumeOnceThereIsRoomAgainWithoutRestart() throws Exception {
    try (TestBackends.Direct be =
        TestBackends.direct(dir, "sweeper-interval = 0s", Durability.FULL)) {
      KeyValueStore kv = be.keyValue("data");
      LogStore log = be.log("events");
      kv.put(b("before"), b("v"));
      log.append(b("r0"));
      limitPages(be, pageCount(be) + 2);
      byte[] big = new byte[3000];
      int acknowledged = 0;
      StorageEngineException full = null;
      for (int i = 0; i < 200 && full == null; i++) {
        try {
          kv.put(b("k" + i), big);
          acknowledged++;
        } catch (StorageEngineException e) {
          full = e;
        }
      }
      assertThat(full).as("the database filled up").isNotNull();
      assertThat(full).hasMessageContaining("is full");
      // every kind of write fails cleanly while full: lone, batch, transaction, log
      assertThatThrownBy(() -> kv.put(b("x"), big)).isInstanceOf(StorageEngineException.class);
      assertThatThrownBy(() -> log.appendAll(List.of(big, big, big)))
          .isInstanceOf(StorageEngineException.class);
      assertThatThrownBy(
              () ->
                  be.backend()
                      .inTransaction(
                          tx -> {
                            tx.keyValue("data").put(b("tx"), big);
                            tx.log("events").append(big);
                            return null;
                          }))
          .isInstanceOf(StorageEngineException.class);
      concurrentWrites(kv, big, 8); // group commits that fail
      assertThat(be.health().isHealthy()).isFalse();

      // room again: no reopen
      limitPages(be, 1_000_000);
      kv.put(b("after"), b("v2"));
      assertThat(log.append(b("r1"))).isEqualTo(1);
      be.backend()
          .inTransaction(
              tx -> {
                tx.keyValue("data").put(b("tx"), b("t"));
                tx.log("events").append(b("r2"));
                return null;
              });
      assertThat(concurrentWrites(kv, big, 8)).isEqualTo(8);
      assertThat(kv.get(b("before"))).isEqualTo(b("v"));
      assertThat(kv.get(b("after"))).isEqualTo(b("v2"));
      assertThat(kv.get(b("tx"))).isEqualTo(b("t"));
      for (int i = 0; i < acknowledged; i++) {
        assertThat(kv.get(b("k" + i))).as("acknowledged k%d", i).isEqualTo(big);
      }
      assertThat(log.read(0, 10)).hasSize(3);
      assertThat(be.health().isHealthy()).isTrue();
      assertThat(be.verify(io.cairn.persistence.Progress.NONE).problems()).isEmpty();
    }
    try (TestBackends.Direct be =
        TestBackends.direct(dir, "sweeper-interval = 0s", Durability.FULL)) {
      assertThat(be.keyValue("data").get(b("after"))).isEqualTo(b("v2"));
      assertThat(be.log("events").nextOffset()).isEqualTo(3);
    }
  }

  /**
   * The real thing: a 20 MiB tmpfs filled up by the database and a ballast file. Needs root to
   * mount; skipped with a message otherwise.
   */
  @Test
  void realFullFileSystemRecoversWhenSpaceIsFreed() throws Exception {
    Path mnt = dir.resolve("mnt");
    java.nio.file.Files.createDirectories(mnt);
    org.junit.jupiter.api.Assumptions.assumeTrue(
        run("mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", mnt.toString()) == 0,
        "skipped: mounting a 20 MiB tmpfs needs root (mount -t tmpfs failed)");
    try {
      Path data = mnt.resolve("data");
      Path ballast = mnt.resolve("ballast");
      try (TestBackends.Direct be =
          TestBackends.direct(data, TINY_DISK_SETTINGS, Durability.FULL)) {
        KeyValueStore kv = be.keyValue("data");
        kv.put(b("before"), b("v"));
        java.nio.file.Files.write(ballast, new byte[12 << 20]);
        byte[] value = new byte[8000];
        List<Integer> acknowledged = new ArrayList<>();
        StorageEngineException full = null;
        for (int i = 0; i < 10_000 && full == null; i++) {
          try {
            kv.put(b("k" + i), value);
            acknowledged.add(i);
          } catch (StorageEngineException e) {
            full = e;
          }
        }
        assertThat(full).as("the file system filled up").isNotNull();
        assertThat(full).hasMessageContaining("full");
        assertThat(be.health().isHealthy()).isFalse();
        java.nio.file.Files.delete(ballast);
        kv.put(b("after"), b("v2"));
        be.log("events").append(b("r"));
        for (int i : acknowledged) {
          assertThat(kv.get(b("k" + i))).as("acknowledged k%d", i).isEqualTo(value);
        }
        assertThat(be.health().isHealthy()).isTrue();
      }
      try (TestBackends.Direct be =
          TestBackends.direct(data, TINY_DISK_SETTINGS, Durability.FULL)) {
        assertThat(be.keyValue("data").get(b("after"))).isEqualTo(b("v2"));
        assertThat(be.verify(io.cairn.persistence.Progress.NONE).problems()).isEmpty();
      }
    } finally {
      run("umount", mnt.toString());
    }
  }

  private static int run(String... command) throws Exception {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor();
    } catch (java.io.IOException e) {
      return -1; // no such command
    }
  }

  /** Runs {@code n} puts from as many threads at once; returns how many succeeded. */
  private static int concurrentWrites(KeyValueStore kv, byte[] value, int n) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      List<Future<Long>> fs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int t = i;
        fs.add(pool.submit(() -> kv.put(b("c" + t), value)));
      }
      int ok = 0;
      for (Future<Long> f : fs) {
        try {
          f.get();
          ok++;
        } catch (java.util.concurrent.ExecutionException e) {
          assertThat(e.getCause()).isInstanceOf(StorageEngineException.class);
        }
      }
      return ok;
    } finally {
      pool.shutdownNow();
    }
  }
}
