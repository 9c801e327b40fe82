package io.cairn.encryption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import com.google.crypto.tink.aead.AesGcmParameters;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.spi.Settings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TinkEncryptionTest {
  private static final byte[] PLAIN = "card 4111-1111-1111-1111".getBytes(StandardCharsets.UTF_8);
  private static final byte[] AD_A = "backend=main;kv;users;key=alice".getBytes();
  private static final byte[] AD_B = "backend=main;kv;users;key=bob".getBytes();

  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(Algorithm.class)
  void roundTripBindsAssociatedDataAndDetectsEveryFlippedByte(Algorithm algorithm) {
    TinkEncryption e = TinkEncryption.standalone(Keysets.generate(algorithm));
    byte[] sealed = e.seal(PLAIN, AD_A);
    assertThat(new String(sealed, StandardCharsets.ISO_8859_1))
        .doesNotContain(new String(PLAIN, StandardCharsets.ISO_8859_1));
    assertThat(TinkEncryption.keyIdOf(sealed)).isEqualTo(e.primaryKeyId());
    assertThat(e.open(sealed, AD_A)).isEqualTo(PLAIN);
    // Two seals of one value differ: a fresh nonce each time.
    assertThat(e.seal(PLAIN, AD_A)).isNotEqualTo(sealed);

    assertThatThrownBy(() -> e.open(sealed, AD_B))
        .isInstanceOfSatisfying(
            DecryptionFailedException.class,
            f -> {
              assertThat(f.reason())
                  .isEqualTo(DecryptionFailedException.Reason.AUTHENTICATION_FAILED);
              assertThat(f.keyId()).isEqualTo(e.primaryKeyId());
            })
        .hasMessageContaining("moved here from another store, key or offset");
    for (int i = TinkEncryption.PREFIX_SIZE; i < sealed.length; i++) {
      byte[] flipped = sealed.clone();
      flipped[i] ^= 0x01;
      assertThatThrownBy(() -> e.open(flipped, AD_A))
          .as("byte %d flipped", i)
          .isInstanceOf(DecryptionFailedException.class);
    }
  }

  @Test
  void rotationSealsWithTheNewKeyAndStillOpensTheOld() {
    KeysetHandle first = Keysets.generate(Algorithm.XAES_256_GCM);
    TinkEncryption before = TinkEncryption.of(first);
    byte[] old = before.seal(PLAIN, AD_A);

    KeysetHandle rotated = Keysets.rotate(first, Algorithm.XAES_256_GCM);
    TinkEncryption after = TinkEncryption.of(rotated);
    assertThat(after.primaryKeyId()).isNotEqualTo(before.primaryKeyId());
    assertThat(TinkEncryption.keyIdOf(after.seal(PLAIN, AD_A))).isEqualTo(after.primaryKeyId());
    assertThat(after.open(old, AD_A)).isEqualTo(PLAIN);
    assertThat(Keysets.describe(rotated))
        .containsExactly(
            before.primaryKeyId() + " enabled", after.primaryKeyId() + " enabled primary");
  }

  @Test
  void aRevokedKeyIsNamedWithWhatToRun() {
    KeysetHandle first = Keysets.generate(Algorithm.XAES_256_GCM);
    long oldKey = TinkEncryption.of(first).primaryKeyId();
    byte[] old = TinkEncryption.of(first).seal(PLAIN, AD_A);
    KeysetHandle rotated = Keysets.rotate(first, Algorithm.XAES_256_GCM);

    assertThatThrownBy(() -> Keysets.revoke(rotated, TinkEncryption.of(rotated).primaryKeyId()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("primary key");
    TinkEncryption revoked = TinkEncryption.of(Keysets.revoke(rotated, oldKey));
    assertThatThrownBy(() -> revoked.open(old, AD_A))
        .isInstanceOfSatisfying(
            DecryptionFailedException.class,
            f -> assertThat(f.reason()).isEqualTo(DecryptionFailedException.Reason.REVOKED_KEY))
        .hasMessageContaining("key " + oldKey)
        .hasMessageContaining("revoked")
        .hasMessageContaining("re-encrypt");
    TinkEncryption enabled =
        TinkEncryption.of(Keysets.enable(Keysets.revoke(rotated, oldKey), oldKey));
    assertThat(enabled.open(old, AD_A)).isEqualTo(PLAIN);
  }

  /**
   * AES-256-GCM keys with Tink's prefix are opened through their own Tink primitive, chosen by the
   * key id in the prefix; everything else through the keyset's. Either way TinkEncryption opens
   * exactly what Tink's keyset primitive seals and fails where it fails, with the same reasons.
   */
  @Test
  void aesGcmKeysOpenThroughTheirOwnPrimitiveAsTheKeysetPrimitiveWould() throws Exception {
    KeysetHandle first = Keysets.generate(Algorithm.AES_256_GCM);
    KeysetHandle rotated = Keysets.rotate(first, Algorithm.AES_256_GCM);
    // a key without Tink's prefix as well: only the keyset's primitive can open its bytes
    KeysetHandle.Builder builder = KeysetHandle.newBuilder();
    for (int i = 0; i < rotated.size(); i++) {
      KeysetHandle.Entry entry = rotated.getAt(i);
      KeysetHandle.Builder.Entry copy =
          KeysetHandle.importKey(entry.getKey()).withFixedId(entry.getId());
      builder.addEntry(entry.isPrimary() ? copy.makePrimary() : copy);
    }
    AesGcmParameters raw =
        AesGcmParameters.builder()
            .setKeySizeBytes(32)
            .setIvSizeBytes(12)
            .setTagSizeBytes(16)
            .setVariant(AesGcmParameters.Variant.NO_PREFIX)
            .build();
    KeysetHandle withRaw =
        builder.addEntry(KeysetHandle.generateEntryFromParameters(raw).withRandomId()).build();
    TinkEncryption e = TinkEncryption.of(withRaw);
    long oldKey = TinkEncryption.of(first).primaryKeyId();
    long newKey = e.primaryKeyId();
    byte[] old = tink(first).encrypt(PLAIN, AD_A);
    byte[] current = tink(rotated).encrypt(PLAIN, AD_A);
    byte[] rawSealed = tink(withRaw.getAt(2)).encrypt(PLAIN, AD_A);
    assertThat(TinkEncryption.keyIdOf(old)).isEqualTo(oldKey);
    assertThat(e.open(old, AD_A)).isEqualTo(PLAIN);
    assertThat(e.open(current, AD_A)).isEqualTo(PLAIN);
    assertThat(e.open(rawSealed, AD_A)).isEqualTo(PLAIN);

    assertThatThrownBy(() -> e.open(current, AD_B))
        .isInstanceOfSatisfying(
            DecryptionFailedException.class,
            f -> {
              assertThat(f.reason())
                  .isEqualTo(DecryptionFailedException.Reason.AUTHENTICATION_FAILED);
              assertThat(f.keyId()).isEqualTo(newKey);
            });
    for (int i = 0; i < current.length; i++) {
      byte[] flipped = current.clone();
      flipped[i] ^= 0x01;
      assertThatThrownBy(() -> e.open(flipped, AD_A))
          .as("byte %d flipped", i)
          .isInstanceOfSatisfying(
              DecryptionFailedException.class,
              f ->
                  assertThat(f.reason())
                      .isIn(
                          DecryptionFailedException.Reason.AUTHENTICATION_FAILED,
                          DecryptionFailedException.Reason.UNKNOWN_KEY,
                          DecryptionFailedException.Reason.MALFORMED));
    }
    // the old key's bytes under the new key's id: the new key's primitive refuses them
    byte[] moved = old.clone();
    System.arraycopy(current, 1, moved, 1, 4);
    assertThatThrownBy(() -> e.open(moved, AD_A))
        .isInstanceOfSatisfying(
            DecryptionFailedException.class,
            f -> {
              assertThat(f.reason())
                  .isEqualTo(DecryptionFailedException.Reason.AUTHENTICATION_FAILED);
              assertThat(f.keyId()).isEqualTo(newKey);
            });

    TinkEncryption revoked = TinkEncryption.of(Keysets.revoke(rotated, oldKey));
    assertThatThrownBy(() -> revoked.open(old, AD_A))
        .isInstanceOfSatisfying(
            DecryptionFailedException.class,
            f -> assertThat(f.reason()).isEqualTo(DecryptionFailedException.Reason.REVOKED_KEY))
        .hasMessageContaining("key " + oldKey)
        .hasMessageContaining("revoked")
        .hasMessageContaining("re-encrypt");
    assertThat(revoked.open(current, AD_A)).isEqualTo(PLAIN);
  }

  private static Aead tink(KeysetHandle keyset) throws Exception {
    return keyset.getPrimitive(RegistryConfiguration.get(), Aead.class);
  }

  private static Aead tink(KeysetHandle.Entry entry) throws Exception {
    return tink(
        KeysetHandle.newBuilder()
            .addEntry(
                KeysetHandle.importKey(entry.getKey()).withFixedId(entry.getId()).makePrimary())
            .build());
  }

  @Test
  void aWrongKeysetNamesTheMissingKey() {
    TinkEncryption mine = TinkEncryption.of(Keysets.generate(Algorithm.XAES_256_GCM));
    TinkEncryption other = TinkEncryption.of(Keysets.generate(Algorithm.XAES_256_GCM));
    byte[] sealed = mine.seal(PLAIN, AD_A);
    assertThatThrownBy(() -> other.open(sealed, AD_A))
        .isInstanceOfSatisfying(
            DecryptionFailedException.class,
            f -> assertThat(f.reason()).isEqualTo(DecryptionFailedException.Reason.UNKNOWN_KEY))
        .hasMessageContaining("key " + mine.primaryKeyId())
        .hasMessageContaining("not in the keyset");
    assertThatThrownBy(() -> other.open(new byte[] {1, 2}, AD_A))
        .isInstanceOfSatisfying(
            DecryptionFailedException.class,
            f -> assertThat(f.reason()).isEqualTo(DecryptionFailedException.Reason.MALFORMED));
  }

  @Test
  void theKeyCheckRecordNamesAWrongKeysetAtOnce() {
    TinkEncryption mine = TinkEncryption.of(Keysets.generate(Algorithm.XAES_256_GCM));
    byte[] record = KeyCheck.create(mine, "main");
    KeyCheck.verify(mine, "main", record, "main/cairn.keycheck");
    assertThatThrownBy(() -> KeyCheck.verify(mine, "other", record, "x"))
        .isInstanceOf(PersistenceException.class);
    TinkEncryption wrong = TinkEncryption.of(Keysets.generate(Algorithm.XAES_256_GCM));
    assertThatThrownBy(() -> KeyCheck.verify(wrong, "main", record, "main/cairn.keycheck"))
        .isInstanceOf(PersistenceException.class)
        .hasMessageContaining("Backend 'main'")
        .hasMessageContaining("main/cairn.keycheck")
        .hasMessageContaining("key " + mine.primaryKeyId());
  }

  @Test
  void keysetFilesAreWrittenAtomicallyAs0600AndRoundTrip() throws Exception {
    Path file = dir.resolve("keyset.json");
    KeySource source = KeySources.keysetFile(file);
    KeysetHandle keyset = Keysets.generate(Algorithm.AES_256_GCM);
    source.store(keyset);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertThat(Files.exists(dir.resolve("keyset.json.tmp"))).isFalse();
    TinkEncryption e = TinkEncryption.standalone(keyset);
    byte[] sealed = e.seal(PLAIN, AD_A);
    assertThat(e.open(sealed, AD_A)).isEqualTo(PLAIN);
    assertThat(source.load().getPrimary().getKey().equalsKey(keyset.getPrimary().getKey()))
        .isTrue();
    source.store(Keysets.rotate(keyset, Algorithm.XAES_256_GCM));
    assertThat(source.load().size()).isEqualTo(2);

    Files.createSymbolicLink(dir.resolve("link.json"), file);
    assertThatThrownBy(() -> KeySources.keysetFile(dir.resolve("link.json")).load())
        .hasMessageContaining("symbolic link");
    assertThatThrownBy(() -> KeySources.keysetFile(dir.resolve("missing.json")).load())
        .hasMessageContaining("does not exist")
        .hasMessageContaining("Keysets.generate");
  }

  @Test
  void aPasswordProtectedKeysetOpensOnlyWithItsPasswordAndHoldsNoKeyInClear() throws Exception {
    Path file = dir.resolve("keyset.enc.json");
    // Small Argon2 costs keep the test quick; the code path is the production one.
    KeySources.writeParameters(file, 1024, 1);
    KeysetHandle keyset = Keysets.generate(Algorithm.XAES_256_GCM);
    KeySources.password(file, "correct horse"::toCharArray).store(keyset);

    String clearJson =
        TinkJsonProtoKeysetFormat.serializeKeyset(keyset, InsecureSecretKeyAccess.get());
    String keyValue = clearJson.replaceAll("(?s).*\"value\":\\s*\"([^\"]+)\".*", "$1");
    assertThat(Files.readString(file)).doesNotContain(keyValue).contains("encryptedKeyset");
    assertThat(Files.readString(KeySources.kdfFile(file)))
        .contains("algorithm=argon2id", "memory-kib=1024", "salt=");

    byte[] sealed = TinkEncryption.of(keyset).seal(PLAIN, AD_A);
    KeysetHandle loaded = KeySources.password(file, "correct horse"::toCharArray).load();
    assertThat(TinkEncryption.of(loaded).open(sealed, AD_A)).isEqualTo(PLAIN);
    assertThatThrownBy(() -> KeySources.password(file, "wrong horse"::toCharArray).load())
        .isInstanceOf(PersistenceException.class)
        .hasMessageContaining("wrong password")
        .hasMessageNotContaining("horse");
  }

  @Test
  void anEnvironmentKeysetIsReadOnlyAndSettingsNeverEchoSecrets() throws Exception {
    KeysetHandle keyset = Keysets.generate(Algorithm.XAES_256_GCM);
    String json = TinkJsonProtoKeysetFormat.serializeKeyset(keyset, InsecureSecretKeyAccess.get());
    KeySource env = KeySources.environment("APP_KEYSET", Map.of("APP_KEYSET", json));
    assertThat(env.load().size()).isEqualTo(1);
    assertThatThrownBy(() -> env.store(keyset))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("APP_KEYSET");
    assertThatThrownBy(
            () -> KeySources.environment("APP_KEYSET", Map.of("APP_KEYSET", "nope")).load())
        .hasMessageContaining("does not hold a Tink JSON keyset")
        .hasMessageNotContaining("nope");

    List<ConfigProblem> problems = new ArrayList<>();
    Settings s =
        new Settings(
            ConfigFactory.parseString(
                "key-source = password, keyset-file = k.json, password-env = P, algorithm = rot13,"
                    + " passwrd = hunter2"),
            "cairn.backends.main.encryption",
            problems);
    assertThat(EncryptionSettings.read(s, Map.of("P", "hunter2"))).isEmpty();
    assertThat(problems.toString())
        .contains(
            "cairn.backends.main.encryption.algorithm", "cairn.backends.main.encryption.passwrd")
        .doesNotContain("hunter2");

    problems.clear();
    Settings ok =
        new Settings(
            ConfigFactory.parseString("key-source = environment, keyset-env = APP_KEYSET"),
            "cairn.backends.main.encryption",
            problems);
    EncryptionSettings settings =
        EncryptionSettings.read(ok, Map.of("APP_KEYSET", json)).orElseThrow();
    assertThat(problems).isEmpty();
    assertThat(settings.algorithm()).isEqualTo(Algorithm.DEFAULT).isEqualTo(Algorithm.AES_256_GCM);
    assertThat(settings.source().describe()).isEqualTo("environment variable APP_KEYSET");
  }

  @Test
  void toStringShowsIdsNeverKeyMaterial() throws Exception {
    KeysetHandle keyset = Keysets.generate(Algorithm.XAES_256_GCM);
    TinkEncryption e = TinkEncryption.of(keyset);
    String json = TinkJsonProtoKeysetFormat.serializeKeyset(keyset, InsecureSecretKeyAccess.get());
    String keyValue = json.replaceAll("(?s).*\"value\":\\s*\"([^\"]+)\".*", "$1");
    assertThat(keyValue).isNotEmpty().isNotEqualTo(json);
    assertThat(e.toString()).contains(Long.toString(e.primaryKeyId())).doesNotContain(keyValue);
    assertThat(String.join(",", Keysets.describe(keyset))).doesNotContain(keyValue);
  }
}
