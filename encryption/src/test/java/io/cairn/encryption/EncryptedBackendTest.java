package io.cairn.encryption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.aead.AesGcmKey;
import com.google.crypto.tink.aead.XChaCha20Poly1305Key;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.tck.RawFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Encryption configured under a backend, end to end, on the durable backends. */
class EncryptedBackendTest {
  private static final String MARKER = "PLAINTEXT-MARKER-";

  @TempDir Path dir;

  private Path keysetFile() {
    return dir.resolve("keyset.json");
  }

  private Config config(String type, boolean encrypted) {
    String enc =
        encrypted
            ? ", encryption { key-source = keyset-file, keyset-file = \"" + keysetFile() + "\" }"
            : "";
    return ConfigFactory.parseString(
        "cairn.backends.main { type = " + type + ", data-dir = data" + enc + " }");
  }

  private PersistenceRegistry open(String type, boolean encrypted) {
    return PersistenceRegistry.builder().baseDirectory(dir).open(config(type, encrypted));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private void writeSome(StorageBackend b, String tag, int n) {
    KeyValueStore kv = b.keyValue("users");
    LogStore log = b.log("events");
    for (int i = 0; i < n; i++) {
      kv.put(bytes(tag + i), bytes(MARKER + tag + i));
      log.append(bytes(MARKER + "log-" + tag + i));
    }
    b.snapshots("state").save(1 + (tag.hashCode() & 0xffff), bytes(MARKER + "snapshot-" + tag));
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void valuesLogsAndSnapshotsRoundTripAndNoPlaintextReachesTheFiles(String type)
      throws IOException {
    KeySources.keysetFile(keysetFile()).store(Keysets.generate(Algorithm.XAES_256_GCM));
    try (PersistenceRegistry r = open(type, true)) {
      StorageBackend b = r.backend("main");
      writeSome(b, "a", 200);
      assertThat(b.keyValue("users").get(bytes("a7"))).isEqualTo(bytes(MARKER + "a7"));
      assertThat(b.log("events").read(0, 1).get(0).payload()).isEqualTo(bytes(MARKER + "log-a0"));
    }
    Path data = dir.resolve("data");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(data.resolve("cairn.keycheck"))))
        .isEqualTo("rw-------");
    assertThat(filesContaining(data, MARKER)).as("files holding plaintext").isEmpty();
    // The key check record does not hold the keyset or the marker either.
    try (PersistenceRegistry r = open(type, true)) {
      StorageBackend b = r.backend("main");
      assertThat(b.keyValue("users").get(bytes("a199"))).isEqualTo(bytes(MARKER + "a199"));
      try (InputStream in =
          b.snapshots("state").load(b.snapshots("state").latest().orElseThrow().version())) {
        assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
            .isEqualTo(MARKER + "snapshot-a");
      }
    }
  }

  /**
   * The default key type changed from XAES-256-GCM to XChaCha20-Poly1305, then to AES-256-GCM
   * (derived per backend, counted): keysets made under both older defaults still open their data,
   * rotating adds a key of the new default, and the rekey leaves everything readable with the old
   * keys revoked.
   */
  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void dataUnderTheOldDefaultKeyTypeOpensAndRekeyMovesItToTheNewDefault(String type)
      throws IOException {
    assertThat(Keysets.generate().getPrimary().getKey()).isInstanceOf(AesGcmKey.class);
    KeySource source = KeySources.keysetFile(keysetFile());
    KeysetHandle older = Keysets.generate(Algorithm.XAES_256_GCM);
    long olderKey = storeAndWrite(source, older, type, "older", 20);
    KeysetHandle old = Keysets.rotate(older, Algorithm.XCHACHA20_POLY1305);
    assertThat(old.getPrimary().getKey()).isInstanceOf(XChaCha20Poly1305Key.class);
    long oldKey = storeAndWrite(source, old, type, "old", 20);
    try (PersistenceRegistry r = open(type, true)) {
      assertEverythingReadable(r.backend("main"), "old", 20);
    }
    try (PersistenceRegistry r = open(type, true)) {
      assertEverythingReadable(r.backend("main"), "older", 20);
    }
    KeysetHandle rotated = Keysets.rotate(old);
    assertThat(rotated.getPrimary().getKey()).isInstanceOf(AesGcmKey.class);
    source.store(rotated);
    try (PersistenceRegistry r = open(type, true)) {
      writeSome(r.backend("main"), "new", 5);
      assertThat(Rekey.run(r, "main", Progress.NONE).resealed()).isGreaterThanOrEqualTo(82);
      assertEverythingReadable(r.backend("main"), "old", 20);
    }
    source.store(Keysets.revoke(Keysets.revoke(rotated, oldKey), olderKey));
    try (PersistenceRegistry r = open(type, true)) {
      assertEverythingReadable(r.backend("main"), "older", 20);
      assertEverythingReadable(r.backend("main"), "old", 20);
      assertEverythingReadable(r.backend("main"), "new", 5);
      assertThat(Rekey.run(r, "main", Progress.NONE).resealed()).isZero();
    }
  }

  /** Stores {@code keyset}, writes {@code n} entries tagged {@code tag}; its primary key id. */
  private long storeAndWrite(
      KeySource source, KeysetHandle keyset, String type, String tag, int n) {
    source.store(keyset);
    try (PersistenceRegistry r = open(type, true)) {
      writeSome(r.backend("main"), tag, n);
    }
    return TinkEncryption.of(keyset).primaryKeyId();
  }

  private static void assertEverythingReadable(StorageBackend b, String tag, int n)
      throws IOException {
    KeyValueStore kv = b.keyValue("users");
    for (int i = 0; i < n; i++) {
      assertThat(kv.get(bytes(tag + i))).isEqualTo(bytes(MARKER + tag + i));
    }
    List<String> payloads =
        b.log("events").read(0, 1000).stream()
            .map(rec -> new String(rec.payload(), StandardCharsets.UTF_8))
            .toList();
    for (int i = 0; i < n; i++) {
      assertThat(payloads).contains(MARKER + "log-" + tag + i);
    }
    try (InputStream in = b.snapshots("state").load(1 + (tag.hashCode() & 0xffff))) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
          .isEqualTo(MARKER + "snapshot-" + tag);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void aWrongKeysetIsNamedAtOpenNotAtTheFirstRead(String type) {
    KeySource source = KeySources.keysetFile(keysetFile());
    source.store(Keysets.generate(Algorithm.XAES_256_GCM));
    long rightKey = TinkEncryption.of(source.load()).primaryKeyId();
    try (PersistenceRegistry r = open(type, true)) {
      writeSome(r.backend("main"), "a", 3);
    }
    source.store(Keysets.generate(Algorithm.XAES_256_GCM));
    assertThatThrownBy(() -> open(type, true))
        .isInstanceOf(PersistenceException.class)
        .hasMessageContaining("Backend 'main'")
        .hasMessageContaining("key check record")
        .hasMessageContaining("key " + rightKey)
        .hasMessageContaining("not in the keyset");
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void rotationKeepsOldDataReadableAndARevokedKeyIsNamedWithWhatToRun(String type) {
    KeySource source = KeySources.keysetFile(keysetFile());
    KeysetHandle first = Keysets.generate(Algorithm.XAES_256_GCM);
    long oldKey = storeAndWrite(source, first, type, "old", 5);
    KeysetHandle rotated = Keysets.rotate(first, Algorithm.XAES_256_GCM);
    source.store(rotated);
    try (PersistenceRegistry r = open(type, true)) {
      KeyValueStore kv = r.backend("main").keyValue("users");
      kv.put(bytes("new"), bytes(MARKER + "new"));
      assertThat(kv.get(bytes("old3"))).isEqualTo(bytes(MARKER + "old3"));
      assertThat(kv.get(bytes("new"))).isEqualTo(bytes(MARKER + "new"));
    }
    source.store(Keysets.revoke(rotated, oldKey));
    assertThatThrownBy(() -> open(type, true))
        .isInstanceOf(PersistenceException.class)
        .hasMessageContaining("key " + oldKey)
        .hasMessageContaining("revoked")
        .hasMessageContaining("re-encrypt");
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void dataWrittenInClearIsNotOpenedAsEncrypted(String type) throws IOException {
    KeySources.keysetFile(keysetFile()).store(Keysets.generate(Algorithm.XAES_256_GCM));
    try (PersistenceRegistry r = open(type, false)) {
      writeSome(r.backend("main"), "clear", 2);
    }
    // The control for the plaintext scan above: without encryption the marker is in the files.
    assertThat(filesContaining(dir.resolve("data"), MARKER)).isNotEmpty();
    assertThatThrownBy(() -> open(type, true))
        .isInstanceOf(PersistenceException.class)
        .hasMessageContaining("holds data but has no key check record")
        .hasMessageContaining("cairn migrate");
  }

  @Test
  void aValueMovedToAnotherKeyFailsToOpenNamingTheStoreAndKey() {
    // Through the memory backend, whose engine bytes the test can reach via a second key: the
    // base stores seal with associated data naming the key, so the same sealed bytes fail there.
    KeySources.keysetFile(keysetFile()).store(Keysets.generate(Algorithm.XAES_256_GCM));
    TinkEncryption e = TinkEncryption.of(KeySources.keysetFile(keysetFile()).load());
    byte[] sealedForAlice =
        e.seal(
            bytes("secret"),
            io.cairn.persistence.spi.AssociatedData.forValue("main", "users", bytes("alice")));
    assertThatThrownBy(
            () ->
                io.cairn.persistence.spi.Sealer.of("main", e)
                    .openValue("users", bytes("bob"), sealedForAlice))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("users")
        .hasMessageNotContaining("secret");
  }

  @Test
  void badSettingsAreConfigurationErrorsThatNeverEchoSecrets() {
    Config bad =
        ConfigFactory.parseString(
            "cairn.backends.main { type = sqlite, data-dir = data, encryption { key-source ="
                + " password, keyset-file = k.json, password-env = P, password-file = hunter2 } }");
    assertThatThrownBy(() -> PersistenceRegistry.builder().baseDirectory(dir).open(bad))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("cairn.backends.main.encryption.password-file")
        .hasMessageContaining("exactly one of password-file and password-env");
  }

  private static List<Path> filesContaining(Path root, String marker) throws IOException {
    return RawFiles.containing(root, marker.getBytes(StandardCharsets.US_ASCII));
  }
}
