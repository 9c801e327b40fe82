package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Opens and closes a backend 1,000 times in one JVM, each time abandoning iterators mid-scan (they
 * pin SST files and hold native memory), and checks that open file descriptors and threads do not
 * grow: the backend's close must release every native handle, iterator and thread.
 */
class RocksDbResourceLeakTest {
  private static final int CYCLES = Integer.getInteger("leakCycles", 1000);

  @TempDir Path dir;

  @Test
  @EnabledOnOs(OS.LINUX)
  void openCloseWithAbandonedIteratorsLeaksNoFileDescriptorsOrThreads() throws IOException {
    // On tmpfs when available: the test is about handles, and RocksDB's fsyncs at every open
    // (MANIFEST, OPTIONS, flushed SST) would otherwise dominate its run time.
    Path shm = Path.of("/dev/shm");
    Path base =
        Files.isDirectory(shm) && Files.isWritable(shm)
            ? Files.createTempDirectory(shm, "cairn-rocksdb-leak")
            : dir;
    try {
      run(base.resolve("db"));
    } finally {
      if (!base.equals(dir)) {
        deleteTree(base);
      }
    }
  }

  private void run(Path db) throws IOException {
    cycle(db, 0); // warm up: native library, RocksDB's shared background threads, class loading
    cycle(db, 1);
    long fdsBefore = openFds();
    int threadsBefore = Thread.activeCount();
    for (int i = 2; i < CYCLES; i++) {
      cycle(db, i);
    }
    long fdsAfter = openFds();
    int threadsAfter = Thread.activeCount();
    System.out.printf(
        "fd-leak: %d cycles, fds %d -> %d, threads %d -> %d%n",
        CYCLES, fdsBefore, fdsAfter, threadsBefore, threadsAfter);
    assertThat(fdsAfter)
        .as("open file descriptors after %d cycles", CYCLES)
        .isLessThanOrEqualTo(fdsBefore + 5);
    assertThat(threadsAfter).as("live threads").isLessThanOrEqualTo(threadsBefore + 2);
  }

  private static void cycle(Path db, int i) {
    try (StorageBackend be = Rocks.open(db, "sweeper-interval = 1h")) {
      KeyValueStore kv = be.keyValue("k");
      if (i < 2) {
        for (int k = 0; k < 500; k++) {
          kv.put(b("key" + k), new byte[100]);
        }
      }
      // No write per cycle: an empty WAL keeps each reopen cheap (no recovery flush), so the
      // 1,000 cycles measure handles, not disk work.
      // Abandon two iterators mid-scan, never closing them.
      CloseableIterator<Entry> a = kv.scan(null, null);
      a.next();
      CloseableIterator<Entry> c = kv.scanPrefix(b("key"));
      c.next();
      c.next();
      be.log("l").read(0, 5);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static long openFds() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }
}
