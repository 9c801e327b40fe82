package io.cairn.backend.sqlite;

import io.cairn.persistence.spi.Bytes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The row checksums of schema v3 (layout in {@link SqliteDatabase}). Each one covers every column
 * that decides what a read returns, not only the payload: a flipped bit in a key, a namespace, a
 * version, an expiry or a log offset makes the row fail its check instead of answering for another
 * key or offset. Every variable-length field is preceded by its length, so no two different rows
 * feed the same bytes to the CRC. The result is the CRC-32C as a signed 32-bit integer (SQLite then
 * stores it in 4 bytes).
 */
final class RowChecksums {
  private RowChecksums() {}

  /**
   * Row checksum of a {@code kv} row over ns, key, version, expires_at and the stored value.
   *
   * <p>Runs on every read of a row, so it allocates nothing for an ASCII namespace (the usual
   * kind): the header's bytes and the namespace's characters go to the CRC one at a time instead of
   * through an encoded copy and a buffer per call (issue 15). The bytes fed are exactly those of
   * the layout in {@link SqliteDatabase}: 'k' 'v' 0 3, then the namespace's UTF-8 length, the key's
   * length, the version and the expiry, each big-endian, then the namespace's UTF-8 bytes, the key
   * and the value.
   */
  static int kv(String ns, byte[] key, long version, long expiresAt, byte[] stored) {
    CRC32C crc = new CRC32C();
    crc.update('k');
    crc.update('v');
    crc.update(0);
    crc.update(3);
    boolean ascii = isAscii(ns);
    byte[] n = ascii ? null : ns.getBytes(StandardCharsets.UTF_8);
    updateInt(crc, ascii ? ns.length() : n.length);
    updateInt(crc, key.length);
    updateLong(crc, version);
    updateLong(crc, expiresAt);
    if (ascii) {
      for (int i = 0; i < ns.length(); i++) {
        crc.update(ns.charAt(i)); // an ASCII character is its own UTF-8 byte
      }
    } else {
      crc.update(n);
    }
    crc.update(key);
    crc.update(stored);
    return (int) crc.getValue();
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  private static void updateInt(CRC32C crc, int v) {
    crc.update(v >>> 24);
    crc.update(v >>> 16);
    crc.update(v >>> 8);
    crc.update(v);
  }

  private static void updateLong(CRC32C crc, long v) {
    updateInt(crc, (int) (v >>> 32));
    updateInt(crc, (int) v);
  }

  /** Row checksum of a {@code log_record} row over log, record_offset and the stored payload. */
  static int log(String log, long offset, byte[] stored) {
    return (int) logCrc(log, offset, stored).getValue();
  }

  /**
   * Row checksum of a {@code log_record} row of schema v4 over log, record_offset, the stored
   * payload and appended_at. A row with {@code appended_at = -1} (written before v4, time not
   * recorded) has the v3 checksum, so migration 3 -> 4 rewrites nothing; any other time is fed to
   * the CRC after the payload, so a damaged time fails the row like a damaged payload.
   */
  static int log(String log, long offset, byte[] stored, long appendedAt) {
    CRC32C crc = logCrc(log, offset, stored);
    if (appendedAt != -1) {
      crc.update(ByteBuffer.allocate(8).putLong(appendedAt).flip());
    }
    return (int) crc.getValue();
  }

  private static CRC32C logCrc(String log, long offset, byte[] stored) {
    CRC32C crc = new CRC32C();
    byte[] n = log.getBytes(StandardCharsets.UTF_8);
    ByteBuffer head = ByteBuffer.allocate(16);
    head.put((byte) 'l').put((byte) 'g').put((byte) 0).put((byte) 3);
    head.putInt(n.length).putLong(offset).flip();
    crc.update(head);
    crc.update(n);
    crc.update(stored);
    return crc;
  }

  /** Row checksum of a {@code snapshot} row over every other column. */
  static int snapshot(
      String store, long version, long saveId, long size, long dataCrc, long created, int chunks) {
    CRC32C crc = new CRC32C();
    byte[] n = store.getBytes(StandardCharsets.UTF_8);
    ByteBuffer head = ByteBuffer.allocate(52);
    head.put((byte) 's').put((byte) 'n').put((byte) 0).put((byte) 3);
    head.putInt(n.length).putLong(version).putLong(saveId).putLong(size).putLong(dataCrc);
    head.putLong(created).putInt(chunks).flip();
    crc.update(head);
    crc.update(n);
    return (int) crc.getValue();
  }

  /**
   * A key for messages, readable and exact: the printable form (non-printable bytes as {@code
   * \xNN}, at most 64 bytes) and the hex form, e.g. {@code "user-7" (0x757365722d37)}.
   */
  static String key(byte[] key) {
    StringBuilder sb = new StringBuilder("\"");
    int n = Math.min(key.length, 64);
    for (int i = 0; i < n; i++) {
      int b = key[i] & 0xFF;
      if (b >= 0x20 && b < 0x7F && b != '"' && b != '\\') {
        sb.append((char) b);
      } else {
        sb.append(String.format("\\x%02x", b));
      }
    }
    if (key.length > n) {
      sb.append("...");
    }
    return sb.append("\" (").append(Bytes.toDisplay(key)).append(')').toString();
  }
}
