package io.cairn.encryption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.crypto.tink.KeysetHandle;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Capability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.tck.RawFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code encryption.hashed-key-namespaces}: keys of listed namespaces stored as a keyed hash. */
class HashedKeyNamespacesTest {
  private static final String KEY = "SECRET-KEY-NAME-";
  private static final String CONTROL_KEY = "CONTROL-KEY-NAME-";
  private static final String VALUE = "PLAINTEXT-VALUE-";

  @TempDir Path dir;

  private PersistenceRegistry open(String type) {
    return PersistenceRegistry.builder()
        .baseDirectory(dir)
        .open(
            ConfigFactory.parseString(
                "cairn.backends.main { type = "
                    + type
                    + ", data-dir = data, encryption { key-source = keyset-file, keyset-file = \""
                    + dir.resolve("keyset.json")
                    + "\", hashed-key-namespaces = [credentials] } }"));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void keysAreHashedValuesSealedScansRefusedAndAControlNamespaceKeepsItsKeys(String type)
      throws IOException {
    KeySources.keysetFile(dir.resolve("keyset.json"))
        .store(Keysets.generate(Algorithm.XAES_256_GCM));
    try (PersistenceRegistry r = open(type)) {
      StorageBackend b = r.backend("main");
      KeyValueStore creds = b.keyValue("credentials");
      KeyValueStore control = b.keyValue("control");
      for (int i = 0; i < 20; i++) {
        creds.put(bytes(KEY + i), bytes(VALUE + i));
        control.put(bytes(CONTROL_KEY + i), bytes(VALUE + "control-" + i));
      }
      assertThat(creds.get(bytes(KEY + 3))).isEqualTo(bytes(VALUE + 3));
      assertThat(creds.getEntry(bytes(KEY + 4)).orElseThrow().key()).isEqualTo(bytes(KEY + 4));
      long v = creds.getEntry(bytes(KEY + 5)).orElseThrow().version();
      creds.compareAndSet(bytes(KEY + 5), v, bytes(VALUE + "cas"), null);
      assertThat(creds.get(bytes(KEY + 5))).isEqualTo(bytes(VALUE + "cas"));
      assertThat(creds.delete(bytes(KEY + 6))).isTrue();
      assertThat(creds.get(bytes(KEY + 6))).isNull();
      creds.put(bytes(KEY + "ttl"), bytes(VALUE + "ttl"), Duration.ofHours(1));
      assertThat(creds.getEntry(bytes(KEY + "ttl")).orElseThrow().expiresAtMillis()).isPositive();
      b.inTransaction(
          tx -> {
            tx.keyValue("credentials").put(bytes(KEY + "tx"), bytes(VALUE + "tx"));
            assertThat(tx.keyValue("credentials").getEntry(bytes(KEY + "tx")).orElseThrow().value())
                .isEqualTo(bytes(VALUE + "tx"));
            return null;
          });
      assertThat(creds.get(bytes(KEY + "tx"))).isEqualTo(bytes(VALUE + "tx"));
      assertThatThrownBy(() -> creds.scan(null, null))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("hashed-key-namespaces")
          .hasMessageContaining("'credentials'");
      assertThatThrownBy(() -> creds.scanPrefix(bytes(KEY)))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("hashed-key-namespaces");
      // read transactions (both backends offer them) hash too, and refuse scans the same way
      assertThat(b.capabilities()).contains(Capability.SNAPSHOT_READS);
      byte[] inSnapshot =
          b.readTransaction(view -> view.keyValue("credentials").get(bytes(KEY + 3)));
      assertThat(inSnapshot).isEqualTo(bytes(VALUE + 3));
      assertThatThrownBy(
              () -> b.readTransaction(view -> view.keyValue("credentials").scan(null, null)))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("hashed-key-namespaces");
      try (var it = control.scanPrefix(bytes(CONTROL_KEY))) {
        assertThat(it.hasNext()).isTrue();
      }
    }
    Path data = dir.resolve("data");
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(data.resolve("cairn.keyhash"))))
        .isEqualTo("rw-------");
    assertThat(RawFiles.containing(data, bytes(KEY))).as("files holding a hashed key").isEmpty();
    assertThat(RawFiles.containing(data, bytes(VALUE))).as("files holding a value").isEmpty();
    assertThat(RawFiles.containing(data, bytes(CONTROL_KEY)))
        .as("files holding the control namespace's clear key")
        .isNotEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void hashedKeysStayReachableAcrossReopenRotationResealAndRevocation(String type) {
    KeySource source = KeySources.keysetFile(dir.resolve("keyset.json"));
    KeysetHandle first = Keysets.generate(Algorithm.XAES_256_GCM);
    source.store(first);
    long oldKey = TinkEncryption.of(first).primaryKeyId();
    try (PersistenceRegistry r = open(type)) {
      r.backend("main").keyValue("credentials").put(bytes(KEY + 1), bytes(VALUE + 1));
    }
    try (PersistenceRegistry r = open(type)) {
      assertThat(r.backend("main").keyValue("credentials").get(bytes(KEY + 1)))
          .isEqualTo(bytes(VALUE + 1));
    }
    KeysetHandle rotated = Keysets.rotate(first, Algorithm.XAES_256_GCM);
    source.store(rotated);
    try (PersistenceRegistry r = open(type)) {
      KeyValueStore creds = r.backend("main").keyValue("credentials");
      assertThat(creds.get(bytes(KEY + 1))).isEqualTo(bytes(VALUE + 1));
      creds.put(bytes(KEY + 2), bytes(VALUE + 2));
      r.reseal("main", Progress.NONE);
    }
    source.store(Keysets.revoke(rotated, oldKey));
    try (PersistenceRegistry r = open(type)) {
      KeyValueStore creds = r.backend("main").keyValue("credentials");
      assertThat(creds.get(bytes(KEY + 1))).isEqualTo(bytes(VALUE + 1));
      assertThat(creds.get(bytes(KEY + 2))).isEqualTo(bytes(VALUE + 2));
    }
  }
}
