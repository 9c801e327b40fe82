package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAL stays bounded by {@code wal-autocheckpoint-pages} under every kind of lone write (each
 * committed in autocommit by the writer). A write whose RETURNING statement was reset instead of
 * stepped to its end used to skip SQLite's WAL hook, so no checkpoint ever ran and the WAL grew by
 * one page per write.
 */
class SqliteWalBoundTest {
  private static final int PAGES = 100;
  private static final int WRITES = 3_000;

  @TempDir Path dir;

  private static byte[] key(int i) {
    return ("key-" + i).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Unbounded is about 4 KiB per write, i.e. > 12 MB here. Bounded is the threshold plus the frames
   * written while a checkpoint cannot yet restart the WAL. Each kind of write runs alone, since any
   * other commit would run the checkpoint that a faulty one skips.
   */
  private void assertBounded(String writes) throws IOException {
    long walBytes = Files.size(dir.resolve(SqliteDatabase.DB_FILE + "-wal"));
    assertThat(walBytes)
        .as("WAL bytes after %d %s with wal_autocheckpoint = %d pages", WRITES, writes, PAGES)
        .isLessThan(4L * PAGES * 4_200);
  }

  @Test
  void loneWritesOfEveryKindKeepTheWalNearTheCheckpointThreshold() throws IOException {
    try (PersistenceRegistry r =
        TestBackends.open(
            dir,
            // open-check = header: the default background quick_check starts a second after open
            // and its read transaction keeps checkpoints from restarting the WAL while it runs,
            // which on a loaded machine fell into the writes measured here (WAL 1.8 MB, once)
            "durability = normal, open-check = header, wal-autocheckpoint-pages = "
                + PAGES
                + ", readers = 1")) {
      KeyValueStore kv = r.backend("main").keyValue("ns");
      byte[] value = new byte[100];
      for (int i = 0; i < WRITES; i++) {
        value[0] = (byte) i; // a changed row, so every put is a new WAL frame
        kv.put(key(i % 500), value);
      }
      assertBounded("puts");
      for (int i = 0; i < WRITES; i++) {
        kv.put(key(i), value);
        kv.delete(key(i));
      }
      assertBounded("puts and deletes");
      LogStore log = r.backend("main").log("events");
      for (int i = 0; i < WRITES; i++) {
        log.append(value);
      }
      assertBounded("log appends");
    }
  }
}
