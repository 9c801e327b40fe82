package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mmap-size}: the reader pool's connections map that much of {@code cairn.db} and read
 * through it what the writer wrote; the writer and the checks' connections never map; the setting
 * needs a unit and stays within SQLite's limit.
 */
class ReaderMmapTest {
  @TempDir Path dir;

  @Test
  void readersMapTheConfiguredSizeAndTheWriterDoesNot() throws Exception {
    try (TestBackends.Direct d = TestBackends.direct(dir, "", Durability.NORMAL)) {
      KeyValueStore kv = d.keyValue("kv");
      for (int i = 0; i < 2_000; i++) {
        kv.put(b("k" + i), b("v" + i));
      }
      long readerMap =
          d.engine().readers().read("test", "mmap", c -> c.queryLong("PRAGMA mmap_size"));
      assertThat(readerMap).isEqualTo(1L << 30); // the default, 1GiB
      long writerMap = d.writer().exclusive("test", s -> s.conn().queryLong("PRAGMA mmap_size"));
      assertThat(writerMap).isZero();
      for (int i = 0; i < 2_000; i++) {
        assertThat(kv.get(b("k" + i))).isEqualTo(b("v" + i));
      }
      assertThat(d.engine().properties()).containsEntry("mmap_size", String.valueOf(1L << 30));
    }
    // checks' connections (verify, the background check) open as the writer's would: unmapped
    SqliteSettings settings =
        SqliteSettings.of(
            ConfigFactory.load().getConfig("cairn.backend-defaults.sqlite"), "cairn.test");
    try (Conn c =
        SqliteDatabase.open(
            dir.resolve(SqliteDatabase.DB_FILE), settings, Durability.NORMAL, false)) {
      assertThat(c.queryLong("PRAGMA mmap_size")).isZero();
    }
  }

  /**
   * The case the mapping must survive: {@code compact()} cuts {@code cairn.db} to a tenth while
   * mapped readers keep reading. SQLite maps at most the file's size at the start of each read, so
   * no reader touches a page past the new end (a {@code SIGBUS} there would end this test's JVM,
   * which the build reports as a crashed fork).
   */
  @Test
  void readersKeepReadingWhileCompactCutsTheFileShort() throws Exception {
    int entries = 20_000;
    byte[] value = new byte[1_000];
    try (TestBackends.Direct d = TestBackends.direct(dir, "", Durability.NORMAL)) {
      KeyValueStore kv = d.keyValue("kv");
      inPages(
          d,
          entries,
          (tx, i) -> tx.keyValue("kv").put(b("k" + i), i % 10 == 0 ? b("keep" + i) : value));
      d.backend().compact(io.cairn.persistence.Progress.NONE);
      long full = java.nio.file.Files.size(dir.resolve(SqliteDatabase.DB_FILE));

      java.util.concurrent.atomic.AtomicBoolean stop =
          new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.ExecutorService pool =
          java.util.concurrent.Executors.newFixedThreadPool(4);
      java.util.List<java.util.concurrent.Future<Long>> readers = new java.util.ArrayList<>();
      for (int t = 0; t < 4; t++) {
        int seed = t;
        readers.add(
            pool.submit(
                () -> {
                  java.util.Random random = new java.util.Random(seed);
                  long reads = 0;
                  while (!stop.get()) {
                    int i = random.nextInt(entries / 10) * 10; // a kept key
                    assertThat(kv.get(b("k" + i))).isEqualTo(b("keep" + i));
                    reads++;
                  }
                  return reads;
                }));
      }
      try {
        inPages(
            d,
            entries,
            (tx, i) -> {
              if (i % 10 != 0) {
                tx.keyValue("kv").delete(b("k" + i));
              }
            });
        d.backend().compact(io.cairn.persistence.Progress.NONE);
        d.backend().compact(io.cairn.persistence.Progress.NONE);
      } finally {
        stop.set(true);
        pool.shutdown();
      }
      long reads = 0;
      for (java.util.concurrent.Future<Long> f : readers) {
        reads += f.get(60, java.util.concurrent.TimeUnit.SECONDS);
      }
      long after = java.nio.file.Files.size(dir.resolve(SqliteDatabase.DB_FILE));
      assertThat(after).as("cut short from %d bytes", full).isLessThan(full / 4);
      assertThat(reads).isPositive();
      for (int i = 0; i < entries; i += 10) {
        assertThat(kv.get(b("k" + i))).isEqualTo(b("keep" + i));
      }
    }
  }

  @Test
  void zeroTurnsTheMappingOff() throws Exception {
    try (TestBackends.Direct d = TestBackends.direct(dir, "mmap-size = 0B", Durability.NORMAL)) {
      KeyValueStore kv = d.keyValue("kv");
      kv.put(b("k"), b("v"));
      assertThat(kv.get(b("k"))).isEqualTo(b("v"));
      long readerMap =
          d.engine().readers().read("test", "mmap", c -> c.queryLong("PRAGMA mmap_size"));
      assertThat(readerMap).isZero();
    }
  }

  @Test
  void aSizeNeedsAUnitAndStaysWithinSqlitesLimit() {
    assertThatThrownBy(() -> settings("mmap-size = 1024"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("mmap-size")
        .hasMessageContaining("without a unit");
    assertThatThrownBy(() -> settings("mmap-size = 3GiB"))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("mmap-size")
        .hasMessageContaining("2047MiB");
    assertThat(settings("mmap-size = 2047MiB").mmapSizeBytes()).isEqualTo(2047L << 20);
    assertThat(settings("mmap-size = 0B").mmapSizeBytes()).isZero();
  }

  /** Runs {@code body} for 0 to {@code entries - 1}, a transaction per 1,000. */
  private static void inPages(
      TestBackends.Direct d,
      int entries,
      java.util.function.ObjIntConsumer<io.cairn.persistence.Transaction> body) {
    for (int t = 0; t < entries; t += 1_000) {
      int first = t;
      d.backend()
          .inTransaction(
              tx -> {
                for (int i = first; i < first + 1_000; i++) {
                  body.accept(tx, i);
                }
                return null;
              });
    }
  }

  private static SqliteSettings settings(String body) {
    return SqliteSettings.of(
        ConfigFactory.parseString(body)
            .withFallback(ConfigFactory.load().getConfig("cairn.backend-defaults.sqlite")),
        "cairn.backends.main");
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
