package io.cairn.backend.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.KeysetHandle;
import io.cairn.encryption.Algorithm;
import io.cairn.encryption.KeySource;
import io.cairn.encryption.KeySources;
import io.cairn.encryption.Keysets;
import io.cairn.encryption.TinkEncryption;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.tck.RawFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Encryption configured under a PostgreSQL backend, end to end with the Tink provider: nothing of
 * the values, payloads and snapshots reaches the server's files in clear (with the unencrypted
 * control), and the key check record, kept in table {@code cairn_keycheck}, names a wrong, missing
 * or revoked key at open with the same messages as the backends that keep it in a file.
 */
class PostgresEncryptionTest {
  private static final String SCHEMA = "enc_test";
  private static final String CLEAR_SCHEMA = "enc_test_clear";

  @TempDir Path dir;

  @BeforeEach
  void freshSchemas() {
    TestPostgres.shared().dropSchema(SCHEMA);
    TestPostgres.shared().dropSchema(CLEAR_SCHEMA);
  }

  private Path keysetFile() {
    return dir.resolve("keyset.json");
  }

  private PersistenceRegistry open(String schema, boolean encrypted) {
    String enc =
        encrypted
            ? "encryption { key-source = keyset-file, keyset-file = \"" + keysetFile() + "\" }"
            : "";
    return PgTests.open(schema, enc);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Small values (stored inline, uncompressed), so the control finds them in the files. */
  private static void writeSome(StorageBackend b, String marker, int n) {
    for (int i = 0; i < n; i++) {
      b.keyValue("users").put(bytes("k" + i), bytes(marker + "-value-" + i));
      b.log("events").append(bytes(marker + "-record-" + i));
    }
    b.inTransaction(
        tx -> {
          tx.keyValue("users").put(bytes("tx"), bytes(marker + "-tx-value"));
          tx.log("events").append(bytes(marker + "-tx-record"));
          return null;
        });
    b.snapshots("state").save(1, bytes(marker + "-snapshot"));
  }

  @Test
  void noPlaintextReachesTheServersFilesAndTheUnencryptedControlDoes() throws IOException {
    KeySources.keysetFile(keysetFile()).store(Keysets.generate(Algorithm.XAES_256_GCM));
    String secret = "PG-SECRET-" + UUID.randomUUID();
    String clear = "PG-CLEAR-" + UUID.randomUUID();
    try (PersistenceRegistry r = open(SCHEMA, true)) {
      StorageBackend b = r.backend("pg");
      writeSome(b, secret, 50);
      assertThat(b.keyValue("users").get(bytes("k7"))).isEqualTo(bytes(secret + "-value-7"));
      assertThat(b.log("events").read(50, 1).get(0).payload())
          .isEqualTo(bytes(secret + "-tx-record"));
      try (InputStream in = b.snapshots("state").load(1)) {
        assertThat(in.readAllBytes()).isEqualTo(bytes(secret + "-snapshot"));
      }
    }
    try (PersistenceRegistry r = open(CLEAR_SCHEMA, false)) {
      writeSome(r.backend("pg"), clear, 50);
    }
    TestPostgres pg = TestPostgres.shared();
    pg.checkpoint();
    Path pgdata = pg.dataDirectory();
    assertThat(RawFiles.containing(pgdata, bytes(clear)))
        .as("control: without encryption the values are in the server's files")
        .isNotEmpty();
    assertThat(RawFiles.containing(pgdata, bytes(secret)))
        .as("server files holding the plaintext of the encrypted schema")
        .isEmpty();
  }

  @Test
  void theKeyCheckRecordIsInTheDatabaseAndAWrongKeyIsNamedAtOpen() throws Exception {
    KeySource source = KeySources.keysetFile(keysetFile());
    source.store(Keysets.generate(Algorithm.XAES_256_GCM));
    long rightKey = TinkEncryption.of(source.load()).primaryKeyId();
    try (PersistenceRegistry r = open(SCHEMA, true)) {
      writeSome(r.backend("pg"), "x", 3);
    }
    try (Connection c = TestPostgres.shared().connect();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM " + SCHEMA + ".cairn_keycheck")) {
      rs.next();
      assertThat(rs.getLong(1)).as("key check rows").isEqualTo(1);
    }
    // a keyset without the key the data needs: the "missing key" and the "wrong key" case
    source.store(Keysets.generate(Algorithm.XAES_256_GCM));
    assertThatThrownBy(() -> open(SCHEMA, true))
        .isInstanceOf(PersistenceException.class)
        .hasMessageContaining("Backend 'pg'")
        .hasMessageContaining("key check record")
        .hasMessageContaining("cairn_keycheck")
        .hasMessageContaining("key " + rightKey)
        .hasMessageContaining("not in the keyset");
  }

  @Test
  void aRevokedKeyIsNamedAtOpenAndResealFreesTheOldKey() {
    KeySource source = KeySources.keysetFile(keysetFile());
    KeysetHandle first = Keysets.generate(Algorithm.XAES_256_GCM);
    source.store(first);
    long oldKey = TinkEncryption.of(first).primaryKeyId();
    try (PersistenceRegistry r = open(SCHEMA, true)) {
      writeSome(r.backend("pg"), "old", 5);
    }
    KeysetHandle rotated = Keysets.rotate(first, Algorithm.XAES_256_GCM);
    source.store(rotated);
    try (PersistenceRegistry r = open(SCHEMA, true)) {
      assertThat(r.backend("pg").keyValue("users").get(bytes("k3")))
          .isEqualTo(bytes("old-value-3"));
    }
    source.store(Keysets.revoke(rotated, oldKey));
    assertThatThrownBy(() -> open(SCHEMA, true))
        .isInstanceOf(PersistenceException.class)
        .hasMessageContaining("key " + oldKey)
        .hasMessageContaining("revoked")
        .hasMessageContaining("re-encrypt");

    // re-encrypt under the new primary (data and key check record), then the old key can go
    source.store(rotated);
    try (PersistenceRegistry r = open(SCHEMA, true)) {
      assertThat(r.reseal("pg", Progress.NONE).resealed()).isGreaterThanOrEqualTo(5 + 6 + 1);
    }
    source.store(Keysets.revoke(rotated, oldKey));
    try (PersistenceRegistry r = open(SCHEMA, true)) {
      StorageBackend b = r.backend("pg");
      assertThat(b.keyValue("users").get(bytes("tx"))).isEqualTo(bytes("old-tx-value"));
      assertThat(b.log("events").read(0, 100)).hasSize(6);
      assertThat(b.verify(Progress.NONE).problems()).isEmpty();
    }
  }

  @Test
  void dataWrittenInClearIsNotOpenedAsEncrypted() {
    KeySources.keysetFile(keysetFile()).store(Keysets.generate(Algorithm.XAES_256_GCM));
    try (PersistenceRegistry r = open(SCHEMA, false)) {
      writeSome(r.backend("pg"), "clear", 2);
    }
    assertThatThrownBy(() -> open(SCHEMA, true))
        .isInstanceOf(PersistenceException.class)
        .hasMessageContaining("holds data but has no key check record")
        .hasMessageContaining("cairn_keycheck")
        .hasMessageContaining("cairn migrate");
  }

  /**
   * The default key type (AES-256-GCM, counted): two registries on one schema (as two processes
   * would be) reserve disjoint blocks of the key's message count through the table's
   * compare-and-replace, so the stored count covers every message both sealed.
   */
  @Test
  void twoRegistriesOnOneSchemaCountEveryMessageOfTheDefaultKey() {
    KeySources.keysetFile(keysetFile()).store(Keysets.generate());
    long key =
        io.cairn.encryption.TinkEncryption.of(KeySources.keysetFile(keysetFile()).load())
            .primaryKeyId();
    int n = 1500; // more than the first block of each
    try (PersistenceRegistry a = open(SCHEMA, true);
        PersistenceRegistry b = open(SCHEMA, true)) {
      for (int i = 0; i < n; i++) {
        a.backend("pg").keyValue("users").put(bytes("a" + i), bytes("from a " + i));
        b.backend("pg").keyValue("users").put(bytes("b" + i), bytes("from b " + i));
      }
      assertThat(a.backend("pg").keyValue("users").get(bytes("b7"))).isEqualTo(bytes("from b 7"));
      assertThat(b.backend("pg").keyValue("users").get(bytes("a7"))).isEqualTo(bytes("from a 7"));
      long counted =
          (Long)
              a.metrics()
                  .getGauges()
                  .get("cairn.backends.pg.encryption.primary-key-messages")
                  .getValue();
      long countedByB =
          (Long)
              b.metrics()
                  .getGauges()
                  .get("cairn.backends.pg.encryption.primary-key-messages")
                  .getValue();
      assertThat(Math.max(counted, countedByB))
          .as("messages counted under key %d", key)
          .isGreaterThanOrEqualTo(2L * n + 1);
    }
  }
}
