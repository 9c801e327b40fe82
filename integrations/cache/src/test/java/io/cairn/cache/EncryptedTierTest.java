package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.cairn.encryption.Algorithm;
import io.cairn.encryption.KeySources;
import io.cairn.encryption.Keysets;
import io.cairn.persistence.Codec;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.tck.RawFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A persistent tier on an encrypted backend holds no plaintext value: the tier writes through the
 * backend's stores, whose values the backend seals (issues 14 and 16). The control run without
 * encryption finds the values in the files, so the scan can see them.
 */
class EncryptedTierTest {
  private static final String SECRET = "credential-PLAINTEXT-";

  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void anEncryptedTierHoldsNoPlaintextValue(String type) throws IOException {
    assertThat(filesHoldingSecrets(type, "plain", false)).isNotEmpty();
    assertThat(filesHoldingSecrets(type, "sealed", true)).isEmpty();
  }

  private List<Path> filesHoldingSecrets(String type, String name, boolean encrypted)
      throws IOException {
    Path keyset = dir.resolve(name + "-keyset.json");
    KeySources.keysetFile(keyset).store(Keysets.generate(Algorithm.XAES_256_GCM));
    Path data = dir.resolve(name);
    String conf =
        "cairn.backends.b { type = "
            + type
            + ", data-dir = \""
            + data
            + "\""
            + (encrypted
                ? ", encryption { key-source = keyset-file, keyset-file = \"" + keyset + "\" }"
                : "")
            + " }\ncairn.caches.c { backend = b, ttl = 1h }\n";
    try (PersistenceRegistry r = PersistenceRegistry.open(ConfigFactory.parseString(conf))) {
      TieredCache<String, String> c = TieredCache.open(r, "c", Codec.utf8(), Codec.utf8());
      for (int i = 0; i < 100; i++) {
        c.put("user-" + i, SECRET + i);
      }
      assertThat(c.get("user-7", k -> "loaded")).isEqualTo(SECRET + 7);
      c.close();
    }
    return RawFiles.containing(data, SECRET.getBytes(StandardCharsets.US_ASCII));
  }
}
