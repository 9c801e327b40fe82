package io.cairn.queue;

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
 * A queue on an encrypted backend holds no plaintext payload, also for messages in flight and dead
 * letters: the queue writes through the backend's log and key-value stores, whose payloads and
 * values the backend seals (issue 14). The control run without encryption finds the payloads in the
 * files, so the scan can see them.
 */
class EncryptedQueueTest {
  private static final String SECRET = "order-PLAINTEXT-";

  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void anEncryptedBackendHoldsNoPlaintextPayload(String type) throws IOException {
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
            + " }\ncairn.queues.q { backend = b, visibility-timeout = 30s, max-attempts = 3 }\n";
    try (PersistenceRegistry r = PersistenceRegistry.open(ConfigFactory.parseString(conf))) {
      try (DurableQueue<String> q = DurableQueue.open(r, "q", Codec.utf8())) {
        for (int i = 0; i < 100; i++) {
          q.enqueue(SECRET + i);
        }
      }
    }
    return RawFiles.containing(data, SECRET.getBytes(StandardCharsets.US_ASCII));
  }
}
