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
 * Record checksums cover the key, the namespace, the version and the expiry, not only the value
 * (issue 10 item 4): a damaged key must not answer for another key, a damaged expiry must not hide
 * a live entry, a damaged log offset must not answer for another offset. The checksum is the shared
 * base's ({@code RecordFrame}: CRC-32C over store, key and record); the damage is done to rows of
 * SQLite's {@code rec} table ({@link EngineSchema}), the way a flipped bit on disk would.
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

  /** The entries of namespace "users": rows of kind 0 in SQLite's rec table. */
  private static final String USERS = "UPDATE rec ";

  private static final String IN_USERS = "kind = 0 AND store = 'users' AND key = CAST(";

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
    sql(USERS + "SET key = CAST('user-7x' AS BLOB) WHERE " + IN_USERS + "'user-7' AS BLOB)");
    sql(USERS + "SET key = CAST('user-7' AS BLOB) WHERE " + IN_USERS + "'user-3' AS BLOB)");
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s")) {
      KeyValueStore kv = r.backend("main").keyValue("users");
      assertThatThrownBy(() -> kv.get(b("user-7")))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("namespace 'users'")
          .hasMessageContaining("'user-7'")
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
          .hasMessageContaining("namespace 'users'");
      assertThat(r.backend("main").verify(Progress.NONE).problems())
          .anyMatch(p -> p.contains("namespace 'users'") && p.contains("'user-7'"))
          .anyMatch(p -> p.contains("'user-7x'"));
      assertThat(kv.get(b("user-1"))).isEqualTo(b("secret-1"));
    }
  }

  @Test
  void aNamespaceVersionOrExpiryChangeFailsTheRow() throws Exception {
    populate();
    // the entry record: tag, flags, version i64 (bytes 3-10), expiry i64 (bytes 11-18), value
    sql(USERS + "SET store = 'other' WHERE " + IN_USERS + "'user-1' AS BLOB)");
    sql(
        USERS
            + "SET value = substr(value, 1, 9)"
            + " || CASE WHEN substr(value, 10, 1) = x'00' THEN x'01' ELSE x'00' END"
            + " || substr(value, 11) WHERE "
            + IN_USERS
            + "'user-2' AS BLOB)");
    sql(
        USERS
            + "SET value = substr(value, 1, 10) || x'0000000000000001' || substr(value, 19)"
            + " WHERE "
            + IN_USERS
            + "'session' AS BLOB)"); // looks expired
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s")) {
      var be = r.backend("main");
      assertThatThrownBy(() -> be.keyValue("other").get(b("user-1")))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("namespace 'other'");
      assertThatThrownBy(() -> be.keyValue("users").getEntry(b("user-2")))
          .isInstanceOf(StoreCorruptedException.class);
      assertThatThrownBy(() -> be.keyValue("users").compareAndSet(b("user-2"), 1, b("x"), null))
          .isInstanceOf(StoreCorruptedException.class);
      // a damaged expiry does not make a live entry silently vanish
      assertThatThrownBy(() -> be.keyValue("users").get(b("session")))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("'session'");
      assertThat(be.verify(Progress.NONE).problems()).hasSizeGreaterThanOrEqualTo(3);
    }
  }

  @Test
  void aChangedLogOffsetFailsTheRecord() throws Exception {
    populate();
    sql("DELETE FROM rec WHERE kind = 1 AND store = 'events' AND key = x'0000000000000003'");
    sql(
        "UPDATE rec SET key = x'0000000000000003'"
            + " WHERE kind = 1 AND store = 'events' AND key = x'0000000000000004'");
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s")) {
      assertThatThrownBy(() -> r.backend("main").log("events").read(3, 10))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("log 'events'");
    }
  }

  @Test
  void aMissingRecordInsideALogIsNotSkippedSilently() throws Exception {
    populate();
    sql("DELETE FROM rec WHERE kind = 1 AND store = 'events' AND key = x'0000000000000002'");
    try (PersistenceRegistry r = TestBackends.open(dir, "sweeper-interval = 0s")) {
      assertThatThrownBy(() -> r.backend("main").log("events").read(0, 10))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("log 'events'");
    }
  }
}
