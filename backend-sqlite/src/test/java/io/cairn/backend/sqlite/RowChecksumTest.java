package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StoreCorruptedException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Row checksums cover the key, the namespace, the version and the expiry, not only the value (issue
 * 10 item 4): a damaged key must not answer for another key, a damaged expiry must not hide a live
 * entry, a damaged log offset must not answer for another offset.
 */
class RowChecksumTest {
  @TempDir Path dir;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private void populate() {
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s")) {
      KeyValueStore kv = r.backend("main").keyValue("users");
      for (int i = 0; i < 10; i++) {
        kv.put(b("user-" + i), b("secret-" + i));
      }
      kv.put(b("session"), b("s"), Duration.ofHours(1));
      for (int i = 0; i < 5; i++) {
        r.backend("main").log("events").append(b("event-" + i));
      }
    }
  }

  private void sql(String statement) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("cairn.db"));
        Statement st = c.createStatement()) {
      assertThat(st.executeUpdate(statement)).as(statement).isEqualTo(1);
    }
  }

  @Test
  void aFlippedBitInAKeyIsNotAnsweredAsAnotherKey() throws Exception {
    populate();
    // "user-3" -> "user-7": 0x33 ^ 0x04 = 0x37; "user-7" itself moved away first
    sql("UPDATE kv SET key = CAST('user-7x' AS BLOB) WHERE key = CAST('user-7' AS BLOB)");
    sql("UPDATE kv SET key = CAST('user-7' AS BLOB) WHERE key = CAST('user-3' AS BLOB)");
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s")) {
      KeyValueStore kv = r.backend("main").keyValue("users");
      assertThatThrownBy(() -> kv.get(b("user-7")))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("kv:users")
          .hasMessageContaining("\"user-7\"")
          .hasMessageContaining("0x757365722d37");
      assertThatThrownBy(() -> kv.getEntry(b("user-7x")))
          .isInstanceOf(StoreCorruptedException.class);
      assertThatThrownBy(
              () -> {
                try (CloseableIterator<Entry> it = kv.scan(null, null)) {
                  while (it.hasNext()) {
                    it.next();
                  }
                }
              })
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("kv:users");
      assertThat(r.backend("main").verify(Progress.NONE).problems())
          .anyMatch(p -> p.contains("kv:users") && p.contains("\"user-7\""))
          .anyMatch(p -> p.contains("\"user-7x\""));
      assertThat(kv.get(b("user-1"))).isEqualTo(b("secret-1"));
    }
  }

  @Test
  void aNamespaceVersionOrExpiryChangeFailsTheRow() throws Exception {
    populate();
    sql("UPDATE kv SET ns = 'other' WHERE key = CAST('user-1' AS BLOB)");
    sql("UPDATE kv SET version = version + 1 WHERE key = CAST('user-2' AS BLOB)");
    sql("UPDATE kv SET expires_at = 1 WHERE key = CAST('session' AS BLOB)"); // looks expired
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s")) {
      var be = r.backend("main");
      assertThatThrownBy(() -> be.keyValue("other").get(b("user-1")))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("kv:other");
      assertThatThrownBy(() -> be.keyValue("users").getEntry(b("user-2")))
          .isInstanceOf(StoreCorruptedException.class);
      assertThatThrownBy(() -> be.keyValue("users").compareAndSet(b("user-2"), 1, b("x"), null))
          .isInstanceOf(StoreCorruptedException.class);
      // a damaged expiry does not make a live entry silently vanish
      assertThatThrownBy(() -> be.keyValue("users").get(b("session")))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("\"session\"");
      assertThat(be.verify(Progress.NONE).problems()).hasSizeGreaterThanOrEqualTo(3);
    }
  }

  @Test
  void aChangedLogOffsetFailsTheRecord() throws Exception {
    populate();
    sql("DELETE FROM log_record WHERE record_offset = 3");
    sql("UPDATE log_record SET record_offset = 3 WHERE record_offset = 4");
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s")) {
      assertThatThrownBy(() -> r.backend("main").log("events").read(3, 10))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("Record 3 of log:events");
    }
  }

  @Test
  void aMissingRecordInsideALogIsNotSkippedSilently() throws Exception {
    populate();
    sql("DELETE FROM log_record WHERE record_offset = 2");
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s")) {
      assertThatThrownBy(() -> r.backend("main").log("events").read(0, 10))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("no record at offset 2");
    }
  }
}
