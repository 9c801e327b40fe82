package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * The kv row checksum is computed without an encoded namespace or a header buffer (issue 15); the
 * bytes it covers must stay exactly those of the schema v3 layout, or every row written before
 * would fail its check. The reference below is the layout spelled out with a buffer.
 */
class RowChecksumBytesTest {
  private static int reference(String ns, byte[] key, long version, long expires, byte[] stored) {
    byte[] n = ns.getBytes(StandardCharsets.UTF_8);
    ByteBuffer head = ByteBuffer.allocate(28);
    head.put((byte) 'k').put((byte) 'v').put((byte) 0).put((byte) 3);
    head.putInt(n.length).putInt(key.length).putLong(version).putLong(expires).flip();
    CRC32C crc = new CRC32C();
    crc.update(head);
    crc.update(n);
    crc.update(key);
    crc.update(stored);
    return (int) crc.getValue();
  }

  @Test
  void kvChecksumCoversTheLayoutBytesForAsciiAndOtherNamespaces() {
    SplittableRandom random = new SplittableRandom(7);
    String[] namespaces = {"", "users", "bench", "caf\u00e9", "\u6570\u636e", "a\ud83d\ude00b"};
    long[] numbers = {0, 1, -1, 255, 1L << 31, Long.MAX_VALUE, Long.MIN_VALUE, 0x0102030405060708L};
    for (String ns : namespaces) {
      for (long version : numbers) {
        for (long expires : numbers) {
          byte[] key = new byte[1 + random.nextInt(300)];
          byte[] value = new byte[random.nextInt(200)];
          random.nextBytes(key);
          random.nextBytes(value);
          assertThat(RowChecksums.kv(ns, key, version, expires, value))
              .as("ns '%s' version %d expires %d", ns, version, expires)
              .isEqualTo(reference(ns, key, version, expires, value));
        }
      }
    }
  }
}
