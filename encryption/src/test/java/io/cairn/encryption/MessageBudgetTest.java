package io.cairn.encryption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.health.HealthCheck;
import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.aead.AesGcmKey;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.Encryption;
import io.cairn.tck.crash.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * AES-256-GCM keys derived per backend and their enforced message budget ({@link TinkEncryption},
 * {@link MessageBudget}, {@link KeyCheckRecord}), end to end through the registry.
 */
class MessageBudgetTest {
  @TempDir Path dir;

  private Path keysetFile() {
    return dir.resolve("keyset.json");
  }

  /** Backend "main" on RocksDB in {@code dataDir}; {@code limit} 0 means the default. */
  static Config config(String dataDir, Path keyset, long limit) {
    return config("rocksdb", dataDir, keyset, limit);
  }

  static Config config(String type, String dataDir, Path keyset, long limit) {
    return ConfigFactory.parseString(
        "cairn.backends.main { type = "
            + type
            + ", data-dir = "
            + dataDir
            + ", encryption { key-source = keyset-file, keyset-file = \""
            + keyset
            + "\""
            + (limit > 0 ? ", message-limit = " + limit : "")
            + " } }");
  }

  private PersistenceRegistry open(String dataDir, long limit) {
    return PersistenceRegistry.builder()
        .baseDirectory(dir)
        .open(config(dataDir, keysetFile(), limit));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private KeyCheckRecord record(String dataDir) throws Exception {
    byte[] bytes = Files.readAllBytes(dir.resolve(dataDir).resolve("cairn.keycheck"));
    assertThat(KeyCheckRecord.isVersion2(bytes)).isTrue();
    return KeyCheckRecord.decode(bytes, dataDir);
  }

  @Test
  void twoBackendsSharingAKeysetNeverShareAnAesKey() throws Exception {
    KeysetHandle keyset = Keysets.generate();
    assertThat(keyset.getPrimary().getKey()).isInstanceOf(AesGcmKey.class); // the default
    KeySources.keysetFile(keysetFile()).store(keyset);
    for (String d : new String[] {"a", "b"}) {
      try (PersistenceRegistry r = open(d, 0)) {
        r.backend("main").keyValue("users").put(bytes("alice"), bytes("secret of " + d));
      }
    }
    assertThat(record("a").salt()).isNotEqualTo(record("b").salt());
    // The same backend name, store and key, so the same associated data: only the key differs.
    byte[] storedInA = RocksTamper.readValue(dir.resolve("a"), bytes("alice"));
    RocksTamper.writeValue(dir.resolve("b"), bytes("alice"), storedInA);
    try (PersistenceRegistry r = open("b", 0)) {
      assertThatThrownBy(() -> r.backend("main").keyValue("users").get(bytes("alice")))
          .isInstanceOf(StoreCorruptedException.class);
    }
    try (PersistenceRegistry r = open("a", 0)) {
      assertThat(r.backend("main").keyValue("users").get(bytes("alice")))
          .isEqualTo(bytes("secret of a"));
    }
    // The keyset's key as it is does not open what a backend sealed either.
    Encryption raw = TinkEncryption.of(keyset);
    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .encryption(n -> raw)
            .open(
                ConfigFactory.parseString(
                    "cairn.backends.main { type = rocksdb, data-dir = a }"))) {
      assertThatThrownBy(() -> r.backend("main").keyValue("users").get(bytes("alice")))
          .isInstanceOf(StoreCorruptedException.class);
    }
  }

  @Test
  void theCountSurvivesAKillAndARestartAndNeverUnderReports() throws Exception {
    KeySources.keysetFile(keysetFile()).store(Keysets.generate());
    long primary = TinkEncryption.of(KeySources.keysetFile(keysetFile()).load()).primaryKeyId();
    int n = 3000;
    try (ChildJvm child =
        ChildJvm.builder(BudgetChild.class)
            .args(dir.toString(), keysetFile().toString(), Integer.toString(n))
            .start()) {
      child.awaitLine(l -> l.startsWith("WROTE"), Duration.ofMinutes(2));
      child.killHard();
      child.waitFor(Duration.ofMinutes(1));
    }
    long afterKill = record("data").counted(primary);
    assertThat(afterKill).as("counted after kill -9").isGreaterThanOrEqualTo(n + 1L);
    int m = 500;
    try (PersistenceRegistry r = open("data", 0)) {
      KeyValueStore kv = r.backend("main").keyValue("users");
      assertThat(kv.get(bytes("child" + (n - 1)))).hasSize(100);
      for (int i = 0; i < m; i++) {
        kv.put(bytes("parent" + i), new byte[100]);
      }
      assertThat(r.backend("main").keyValue("users").get(bytes("parent0"))).hasSize(100);
    }
    assertThat(record("data").counted(primary))
        .as("counted after a restart: what was counted before, plus what was sealed since")
        .isGreaterThanOrEqualTo(afterKill + m);
  }

  @Test
  void warnsFromHalfTheLimitAndRefusesAtItNamingKeyAndCommand() throws Exception {
    KeysetHandle keyset = Keysets.generate();
    KeySources.keysetFile(keysetFile()).store(keyset);
    long key = TinkEncryption.of(keyset).primaryKeyId();
    long limit = 4096;
    int written = 0;
    try (PersistenceRegistry r = open("data", limit)) {
      KeyValueStore kv = r.backend("main").keyValue("users");
      for (; written < 100; written++) {
        kv.put(bytes("k" + written), new byte[100]);
      }
      assertThat(health(r).isHealthy()).isTrue();
      assertThat(messages(r)).isLessThan(limit / 2).isGreaterThanOrEqualTo(written + 1L);
      for (; written < 1100; written++) {
        kv.put(bytes("k" + written), new byte[100]);
      }
      HealthCheck.Result warned = health(r);
      assertThat(warned.isHealthy()).isFalse();
      assertThat(warned.getMessage())
          .contains("Backend 'main'", "key " + key, "cairn rekey main", "Keysets.rotate");
      assertThat(messages(r)).isGreaterThanOrEqualTo(limit / 2);
      PersistenceException refused = null;
      for (; written < limit + 10; written++) {
        try {
          kv.put(bytes("k" + written), new byte[100]);
        } catch (PersistenceException e) {
          refused = e;
          break;
        }
      }
      assertThat(refused).as("refused at the limit").isNotNull();
      assertThat(written).as("values sealed: the limit less the key check's").isEqualTo(limit - 1);
      assertThat(refused.getMessage())
          .contains("Backend 'main'", "key " + key, "cairn rekey main", "refused")
          .doesNotContain(rawKeyBase64(keyset));
      assertThat(kv.get(bytes("k" + written))).as("nothing written when refused").isNull();
      assertThatThrownBy(() -> kv.put(bytes("again"), new byte[1]))
          .isInstanceOf(PersistenceException.class);
      assertThat(kv.get(bytes("k0"))).hasSize(100); // reads go on
    }
    assertThat(record("data").counted(key)).isEqualTo(limit);
    // Rotation gives a new key with a budget of its own; the refused one still opens its data.
    KeySources.keysetFile(keysetFile()).store(Keysets.rotate(keyset));
    try (PersistenceRegistry r = open("data", limit)) {
      KeyValueStore kv = r.backend("main").keyValue("users");
      kv.put(bytes("after rotation"), new byte[100]);
      assertThat(kv.get(bytes("k17"))).hasSize(100);
      assertThat(health(r).isHealthy()).isTrue();
    }
  }

  /**
   * A backup carries the key check record, so the salt: the copy opens what the original sealed.
   */
  @Test
  void aBackupKeepsTheBackendsSaltAndOpens() throws Exception {
    KeySources.keysetFile(keysetFile()).store(Keysets.generate());
    try (PersistenceRegistry r = open("data", 0)) {
      r.backend("main").keyValue("users").put(bytes("alice"), bytes("secret"));
      r.backup("main", dir.resolve("copy"), Progress.NONE);
    }
    assertThat(record("copy").salt()).isEqualTo(record("data").salt());
    try (PersistenceRegistry r = open("copy", 0)) {
      assertThat(r.backend("main").keyValue("users").get(bytes("alice")))
          .isEqualTo(bytes("secret"));
    }
  }

  @Test
  void aLimitAboveTwoToThe32IsRefused() {
    KeySources.keysetFile(keysetFile()).store(Keysets.generate());
    assertThatThrownBy(() -> open("data", (1L << 32) + 1))
        .hasMessageContaining("message-limit")
        .hasMessageContaining("it can only be lowered");
  }

  /**
   * A backend written before keys were derived per backend (a version 1 key check record, the
   * keyset's AES-256-GCM key used as it is) still opens; its record is upgraded listing that key as
   * used as it is; a rotation and a rekey move everything to a derived key.
   */
  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void dataUnderAPlainAesKeyOfAnOlderVersionOpensAndMovesToADerivedKey(String type)
      throws Exception {
    KeysetHandle old = Keysets.generate(Algorithm.AES_256_GCM);
    long oldKey = TinkEncryption.of(old).primaryKeyId();
    KeySources.keysetFile(keysetFile()).store(old);
    Aead plain = old.getPrimitive(RegistryConfiguration.get(), Aead.class);
    Encryption olderCairn = new PlainAead(plain); // what Cairn did before derived keys
    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .encryption(n -> olderCairn)
            .open(
                ConfigFactory.parseString(
                    "cairn.backends.main { type = " + type + ", data-dir = data }"))) {
      for (int i = 0; i < 20; i++) {
        r.backend("main").keyValue("users").put(bytes("old" + i), bytes("value " + i));
      }
    }
    Files.write(
        dir.resolve("data").resolve("cairn.keycheck"),
        plain.encrypt(KeyCheck.CONSTANT, KeyCheck.associatedData("main")));

    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(config(type, "data", keysetFile(), 0))) {
      KeyValueStore kv = r.backend("main").keyValue("users");
      assertThat(kv.get(bytes("old3"))).isEqualTo(bytes("value 3"));
      kv.put(bytes("more"), bytes("more"));
      assertThat(health(r).getMessage())
          .contains("key " + oldKey, "not counted", "cairn rekey main");
    }
    KeyCheckRecord upgraded = record("data");
    assertThat(upgraded.derived(oldKey)).isFalse();
    assertThat(upgraded.counted(oldKey)).isGreaterThanOrEqualTo(1);

    KeysetHandle rotated = Keysets.rotate(old);
    long newKey = TinkEncryption.of(rotated).primaryKeyId();
    KeySources.keysetFile(keysetFile()).store(rotated);
    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(config(type, "data", keysetFile(), 0))) {
      assertThat(Rekey.run(r, "main", Progress.NONE).resealed()).isGreaterThanOrEqualTo(21);
      assertThat(health(r).isHealthy()).isTrue();
    }
    assertThat(record("data").derived(newKey)).isTrue();
    KeySources.keysetFile(keysetFile()).store(Keysets.revoke(rotated, oldKey));
    try (PersistenceRegistry r =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(config(type, "data", keysetFile(), 0))) {
      KeyValueStore kv = r.backend("main").keyValue("users");
      for (int i = 0; i < 20; i++) {
        assertThat(kv.get(bytes("old" + i))).isEqualTo(bytes("value " + i));
      }
      assertThat(kv.get(bytes("more"))).isEqualTo(bytes("more"));
    }
  }

  private static HealthCheck.Result health(PersistenceRegistry r) {
    return r.healthChecks().runHealthCheck("cairn.backends.main");
  }

  private static long messages(PersistenceRegistry r) {
    Gauge<?> g = r.metrics().getGauges().get("cairn.backends.main.encryption.primary-key-messages");
    assertThat(g).as("metric").isNotNull();
    return ((Number) g.getValue()).longValue();
  }

  private static String rawKeyBase64(KeysetHandle keyset) {
    AesGcmKey k = (AesGcmKey) keyset.getPrimary().getKey();
    return Base64.getEncoder()
        .encodeToString(
            k.getKeyBytes().toByteArray(com.google.crypto.tink.InsecureSecretKeyAccess.get()));
  }

  /** Sealing with the keyset's primitive as it is, as Cairn did before per-backend keys. */
  private record PlainAead(Aead aead) implements Encryption {
    @Override
    public byte[] seal(byte[] plaintext, byte[] associatedData) {
      try {
        return aead.encrypt(plaintext, associatedData);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public byte[] open(byte[] sealed, byte[] associatedData) {
      try {
        return aead.decrypt(sealed, associatedData);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("cannot open");
      }
    }
  }
}
