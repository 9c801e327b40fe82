package io.cairn.cli;

import static io.cairn.cli.StoreContents.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.cairn.encryption.Algorithm;
import io.cairn.encryption.KeySources;
import io.cairn.encryption.Keysets;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.Entry;
import io.cairn.persistence.Importer;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export and migrate of encrypted backends: values leave decrypted through the store API and are
 * sealed again by the target's own key; namespaces in {@code encryption.hashed-key-namespaces} are
 * refused on either side, before anything is written.
 */
class EncryptedTransferTest {
  @TempDir Path dir;
  PersistenceRegistry registry;

  @BeforeEach
  void open() throws IOException {
    Path k1 = dir.resolve("k1.json");
    Path k2 = dir.resolve("k2.json");
    KeySources.keysetFile(k1).store(Keysets.generate(Algorithm.XAES_256_GCM));
    KeySources.keysetFile(k2).store(Keysets.generate(Algorithm.XAES_256_GCM));
    String enc = "encryption { key-source = keyset-file, keyset-file = \"%s\"%s }";
    registry =
        PersistenceRegistry.builder()
            .baseDirectory(dir)
            .open(
                ConfigFactory.parseString(
                    "cairn.backends {\n"
                        + " sealed { type = memory, "
                        + String.format(enc, k1, "")
                        + " }\n"
                        + " hashed { type = memory, "
                        + String.format(enc, k1, ", hashed-key-namespaces = [users]")
                        + " }\n"
                        + " other { type = memory, "
                        + String.format(enc, k2, "")
                        + " }\n"
                        + " plain { type = memory }\n"
                        + "}"));
  }

  @AfterEach
  void close() {
    registry.close();
  }

  @Test
  void anEncryptedBackendMigratesInClearAndIsSealedByTheTargetsKey() throws IOException {
    StorageBackend sealed = registry.backend("sealed");
    StoreContents.populate(sealed, 500);
    StorageBackend other = registry.backend("other"); // another key
    assertThat(Transfer.migrate(sealed, other, Progress.NONE).verified()).isTrue();
    StoreContents.assertSame(sealed, other);
    StorageBackend plain = registry.backend("plain");
    assertThat(Transfer.migrate(other, plain, Progress.NONE).verified()).isTrue();
    StoreContents.assertSame(sealed, plain);
  }

  @Test
  void aHashedKeyNamespaceIsRefusedAsSourceAndAsTargetBeforeAnyWrite() throws IOException {
    StorageBackend hashed = registry.backend("hashed");
    hashed.keyValue("users").put(b("alice"), b("secret"));
    hashed.log("events").append(b("e"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThatThrownBy(() -> PortableStream.export(hashed, out, Progress.NONE))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("kv:users of backend 'hashed'")
        .hasMessageContaining("hashed-key-namespaces")
        .hasMessageNotContaining("alice");
    assertThat(out.size()).as("bytes written before the refusal").isZero();
    StorageBackend plain = registry.backend("plain");
    assertThatThrownBy(() -> Transfer.migrate(hashed, plain, Progress.NONE))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("kv:users");
    assertThat(StoreContents.empty(plain)).isTrue();

    // into a hashed namespace: refused before the first write (the other stores stay empty too)
    StorageBackend sealed = registry.backend("sealed");
    StoreContents.populate(sealed, 50);
    StorageBackend target = registry.backend("hashed");
    target.keyValue("users").delete(b("alice"));
    target.log("events"); // holds a record: use a fresh set of stores instead
    assertThatThrownBy(
            () ->
                Transfer.requireEmpty(
                    target,
                    List.of(
                        new io.cairn.persistence.StoreId(
                            io.cairn.persistence.StoreKind.KEY_VALUE, "users"))))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("Cannot import into kv:users of backend 'hashed'")
        .hasMessageContaining("hashed-key-namespaces");
    // and the registry's Importer itself refuses it, so no other tool can bypass the hashing
    try (Importer.Session s = target.extension(Importer.class).orElseThrow().begin()) {
      assertThatThrownBy(() -> s.putEntries("users", List.of(new Entry(b("bob"), b("v"), 1, 0))))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("hashed-key-namespaces");
    }
    assertThat(target.keyValue("users").get(b("bob"))).isNull();
  }
}
