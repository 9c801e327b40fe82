package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static io.cairn.backend.rocksdb.Rocks.s;
import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Entry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Issue 10 item 4 on RocksDB: one flipped bit in a stored key, in a value, or in the version and
 * expiry header before the value must never make a read return another key's value, a wrong value
 * or a wrong version. Cairn's KV framing ({@code version, expiresAt, value}, see {@link Layout})
 * carries no checksum of its own because RocksDB's block checksum (CRC-32C, verified on every read
 * of a block from a file: {@code verify_checksums} defaults to true) covers every byte of a data
 * block, keys and values alike; WAL records carry their own CRC. This test proves that coverage on
 * uncompressed SST files, where key and value bytes can be found and flipped.
 */
class RocksDbChecksumCoverageTest {
  private static final int KEYS = 1000;

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"key", "value", "header"})
  void aFlippedBitInAnSstNeverYieldsAWrongAnswer(String target) throws IOException {
    String conf = "advanced.compression = none";
    try (StorageBackend be = Rocks.open(dir, conf)) {
      for (int i = 0; i < KEYS; i++) {
        be.keyValue("k").put(key(i), value(i));
      }
    } // close flushes: everything is in SST files
    Path sst = largestSst();
    byte[] bytes = Files.readAllBytes(sst);
    String needle =
        switch (target) {
          case "key" -> "key-05";
          default -> "VALUE-0512-";
        };
    int at = indexOf(bytes, needle.getBytes(StandardCharsets.US_ASCII));
    assertThat(at).as("found " + needle + " in " + sst).isPositive();
    int flip =
        switch (target) {
          case "key" -> at + needle.length() + 1; // inside the key's digits
          case "value" -> at + 4;
          default -> at - 3; // the expiry field just before the value
        };
    bytes[flip] ^= 0x01;
    Files.write(sst, bytes);

    int corruptReads = 0;
    try (StorageBackend be = Rocks.open(dir, conf)) {
      for (int i = 0; i < KEYS; i++) {
        try {
          Optional<Entry> e = be.keyValue("k").getEntry(key(i));
          assertThat(e).as("key %d", i).isPresent();
          assertThat(s(e.get().value())).as("value of key %d", i).isEqualTo(s(value(i)));
          assertThat(e.get().expiresAtMillis()).as("expiry of key %d", i).isZero();
        } catch (StoreCorruptedException expected) {
          corruptReads++;
        }
      }
      assertThat(corruptReads).as("the damaged block is reported on read").isPositive();
      assertThat(be.verify(Progress.NONE).problems()).isNotEmpty();
    }
  }

  private static byte[] key(int i) {
    return b(String.format("key-%04d", i));
  }

  private static byte[] value(int i) {
    return b(String.format("VALUE-%04d-%s", i, "v".repeat(60)));
  }

  private Path largestSst() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(p -> p.toString().endsWith(".sst"))
          .max(
              (a, c) -> {
                try {
                  return Long.compare(Files.size(a), Files.size(c));
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              })
          .orElseThrow();
    }
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
