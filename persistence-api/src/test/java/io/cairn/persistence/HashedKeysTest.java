package io.cairn.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.spi.Encryption;
import io.cairn.persistence.spi.EncryptionProvider;
import io.cairn.persistence.spi.Settings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry side of {@code encryption.hashed-key-namespaces}. */
class HashedKeysTest {
  @TempDir Path dir;

  /** A hook that encrypts (for this test, trivially) but offers no keyed hash. */
  private static final Encryption NO_KEYED_HASH =
      new Encryption() {
        @Override
        public byte[] seal(byte[] plaintext, byte[] associatedData) {
          return plaintext.clone();
        }

        @Override
        public byte[] open(byte[] sealed, byte[] associatedData) {
          return sealed.clone();
        }
      };

  private static final EncryptionProvider PROVIDER =
      new EncryptionProvider() {
        @Override
        public void validate(Settings section) {}

        @Override
        public Encryption open(String backend, Settings section) {
          return NO_KEYED_HASH;
        }

        @Override
        public byte[] newKeyCheck(String backend, Encryption encryption) {
          return new byte[0];
        }

        @Override
        public void verifyKeyCheck(
            String backend, Encryption encryption, byte[] record, String location) {}
      };

  @Test
  void aProviderWithoutAKeyedHashMakesTheOptionAConfigurationErrorNamingTheBackend() {
    BackendEncryption be =
        new BackendEncryption(
            PROVIDER, ConfigFactory.empty(), "cairn.backends.main.encryption", Set.of("creds"));
    assertThatThrownBy(() -> be.hashedKeys("main", NO_KEYED_HASH, dir, null))
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining("Backend 'main'")
        .hasMessageContaining("cairn.backends.main.encryption.hashed-key-namespaces")
        .hasMessageContaining("offers no keyed hash");
  }

  @Test
  void noListedNamespaceNeedsNoKeyedHash() {
    BackendEncryption be =
        new BackendEncryption(
            PROVIDER, ConfigFactory.empty(), "cairn.backends.main.encryption", Set.of());
    assertThat(be.hashedKeys("main", NO_KEYED_HASH, dir, null)).isNull();
  }

  @Test
  void scansOfAHashedNamespaceAreRefusedNamingTheOption() {
    HashedKeys hk = new HashedKeys("main", Set.of("creds"), k -> k.clone());
    assertThat(hk.applies("creds")).isTrue();
    assertThat(hk.applies("other")).isFalse();
    Transaction.KeyValueReader r =
        hk.wrap(
            new Transaction.KeyValueReader() {
              @Override
              public java.util.Optional<Entry> getEntry(byte[] key) {
                return java.util.Optional.empty();
              }

              @Override
              public CloseableIterator<Entry> scan(byte[] from, byte[] to) {
                throw new AssertionError("must not reach the backend");
              }
            },
            "creds");
    assertThatThrownBy(() -> r.scanPrefix("a".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("'creds'")
        .hasMessageContaining("hashed-key-namespaces");
  }

  /** The registry wrapper's Importer must not let an exact import bypass the key hashing. */
  @Test
  void anImportIntoAHashedNamespaceIsRefusedAndOthersPassThrough() {
    HashedKeys hk = new HashedKeys("main", Set.of("creds"), k -> k.clone());
    java.util.List<String> reached = new java.util.ArrayList<>();
    Importer backend =
        () ->
            new Importer.Session() {
              @Override
              public void putEntries(String namespace, java.util.List<Entry> entries) {
                reached.add("kv:" + namespace);
              }

              @Override
              public void appendRecords(String log, java.util.List<LogRecord> records) {
                reached.add("log:" + log);
              }

              @Override
              public void startLog(String log, long offset) {
                reached.add("start:" + log);
              }

              @Override
              public SnapshotInfo saveSnapshot(
                  String set, long version, long createdAtMillis, java.io.InputStream data) {
                reached.add("snapshot:" + set);
                return null;
              }

              @Override
              public void finish() {
                reached.add("finish");
              }

              @Override
              public void close() {}
            };
    byte[] k = "k".getBytes(StandardCharsets.UTF_8);
    try (Importer.Session s = hk.guard(backend).begin()) {
      assertThatThrownBy(() -> s.putEntries("creds", java.util.List.of(new Entry(k, k, 1, 0))))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("'creds'")
          .hasMessageContaining("hashed-key-namespaces")
          .hasMessageContaining("nothing was written");
      s.putEntries("other", java.util.List.of(new Entry(k, k, 1, 0)));
      s.appendRecords("events", java.util.List.of());
      s.saveSnapshot("state", 1, 0, new java.io.ByteArrayInputStream(k));
      s.finish();
    }
    assertThat(reached).containsExactly("kv:other", "log:events", "snapshot:state", "finish");
  }
}
