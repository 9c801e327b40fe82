package io.cairn.backend.postgres;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The row checksums of the PostgreSQL layout (see {@link PostgresSchema}). Each covers every column
 * that decides what a read returns, each variable-length field preceded by its length, so that a
 * damaged key, namespace, version, expiry or offset fails the check instead of answering for
 * another. The result is the CRC-32C as a signed 32-bit integer (an {@code integer} column).
 */
final class PgChecksums {
  private PgChecksums() {}

  private static CRC32C start(char a, char b, int nameLength, int headBytes, ByteBuffer[] out) {
    ByteBuffer head = ByteBuffer.allocate(8 + headBytes);
    head.put((byte) a).put((byte) b).put((byte) 'p').put((byte) 1).putInt(nameLength);
    out[0] = head;
    return new CRC32C();
  }

  static int kv(String ns, byte[] key, long version, long expiresAt, byte[] stored) {
    byte[] n = ns.getBytes(StandardCharsets.UTF_8);
    ByteBuffer[] h = new ByteBuffer[1];
    CRC32C crc = start('k', 'v', n.length, 20, h);
    h[0].putInt(key.length).putLong(version).putLong(expiresAt).flip();
    crc.update(h[0]);
    crc.update(n);
    crc.update(key);
    crc.update(stored);
    return (int) crc.getValue();
  }

  static int log(String log, long offset, byte[] stored) {
    return log(log, offset, stored, -1);
  }

  /**
   * Row checksum of a log_record row including its append time (schema version 3): a time of -1
   * (not recorded, rows written before version 3) feeds nothing, so older rows keep their checksum;
   * any other time follows the payload, so a damaged time fails the row.
   */
  static int log(String log, long offset, byte[] stored, long appendedAt) {
    byte[] n = log.getBytes(StandardCharsets.UTF_8);
    ByteBuffer[] h = new ByteBuffer[1];
    CRC32C crc = start('l', 'g', n.length, 8, h);
    h[0].putLong(offset).flip();
    crc.update(h[0]);
    crc.update(n);
    crc.update(stored);
    if (appendedAt != -1) {
      crc.update(ByteBuffer.allocate(8).putLong(appendedAt).flip());
    }
    return (int) crc.getValue();
  }

  static int snapshot(
      String store, long version, long saveId, long size, long dataCrc, long created, int chunks) {
    byte[] n = store.getBytes(StandardCharsets.UTF_8);
    ByteBuffer[] h = new ByteBuffer[1];
    CRC32C crc = start('s', 'n', n.length, 44, h);
    h[0].putLong(version).putLong(saveId).putLong(size).putLong(dataCrc).putLong(created);
    h[0].putInt(chunks).flip();
    crc.update(h[0]);
    crc.update(n);
    return (int) crc.getValue();
  }

  static int chunk(long saveId, int seq, byte[] stored) {
    ByteBuffer[] h = new ByteBuffer[1];
    CRC32C crc = start('c', 'k', 0, 12, h);
    h[0].putLong(saveId).putInt(seq).flip();
    crc.update(h[0]);
    crc.update(stored);
    return (int) crc.getValue();
  }
}
