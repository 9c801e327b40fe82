package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A point get ({@link Conn#queryRow}, which steps the statement outside JDBC's result set) leaves
 * no read open on its pooled connection: the next get on that connection sees later commits, and a
 * checkpoint can reset the WAL past every get that returned.
 */
class SqliteGetPathTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aGetLeavesNoReadOpenOnItsConnection() {
    // one reader connection, so every get below runs on the same connection and statement
    try (TestBackends.Direct be =
        TestBackends.direct(
            dir, "sweeper-interval = 0s, readers = 1, busy-timeout = 200ms", Durability.NORMAL)) {
      KeyValueStore kv = be.keyValue("ns");
      for (int i = 0; i < 20; i++) {
        kv.put(b("k"), b("v" + i));
        assertThat(kv.get(b("k"))).as("get after write %d", i).isEqualTo(b("v" + i));
        assertThat(kv.getEntry(b("k")))
            .get()
            .extracting(e -> new String(e.value()))
            .isEqualTo("v" + i);
        assertThat(kv.get(b("absent"))).isNull();
      }
      long busy =
          be.writer()
              .exclusive("checkpoint", s -> s.conn().queryLong("PRAGMA wal_checkpoint(TRUNCATE)"));
      assertThat(busy).as("a reader still holds a snapshot after its get returned").isZero();
    }
  }
}
