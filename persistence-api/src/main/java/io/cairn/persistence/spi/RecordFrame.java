package io.cairn.persistence.spi;

import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import java.util.zip.CRC32C;

/**
 * How {@link EngineBackend} frames every value it hands to a {@link StorageEngine}, and the one
 * place that checks the frame on the way back.
 *
 * <pre>
 * byte 0      tag: 'K' key-value entry, 'T' log record with its append time, 'L' log record
 *             written before the append time was stored (read only, as "not recorded"), 'P' log
 *             position, 'M' snapshot manifest, 'C' snapshot chunk, 'E' expiry index record, 'F'
 *             a format marker of the base's own (see ExpiryIndex, StoreCatalog), 'G' a catalog
 *             entry (see StoreCatalog), 'V' the bound of the version sequence (see
 *             VersionSequence)
 * byte 1      flags: bit 0 = a CRC-32C trailer follows (set when the engine does not checksum
 *             records itself, see StorageEngine#checksumsRecords)
 * bytes 2..   the body (layout per tag, see EngineBackend)
 * last 4      CRC-32C (big-endian int) over: store kind and name, the engine key, and bytes 0..end of
 *             body; present only with flag bit 0
 * </pre>
 *
 * The CRC covers the key and store, not only the value, so a record copied under another key or
 * store is detected even without encryption. A frame whose tag, flags or CRC is wrong throws {@link
 * StoreCorruptedException} naming the backend, store and key; its body is never returned.
 */
final class RecordFrame {
  static final byte KV = 'K';
  static final byte LOG = 'L';
  static final byte LOG_TIMED = 'T';
  static final byte POSITION = 'P';
  static final byte MANIFEST = 'M';
  static final byte CHUNK = 'C';
  static final byte EXPIRY = 'E';
  static final byte FORMAT = 'F';
  static final byte CATALOG = 'G';
  static final byte SEQUENCE = 'V';

  private static final int CRC_FLAG = 1;

  private final String backend;
  private final boolean crc;

  RecordFrame(String backend, boolean engineChecksums) {
    this.backend = backend;
    this.crc = !engineChecksums;
  }

  /** A buffer for a frame of {@code tag} with {@code bodyBytes} bytes of body, header written. */
  ByteBuffer begin(byte tag, int bodyBytes) {
    ByteBuffer b = ByteBuffer.allocate(2 + bodyBytes + (crc ? 4 : 0));
    b.put(tag).put((byte) (crc ? CRC_FLAG : 0));
    return b;
  }

  /** Completes a frame begun by {@link #begin} once its body is written; returns the bytes. */
  byte[] end(ByteBuffer b, StoreId store, byte[] key) {
    if (crc) {
      b.putInt((int) checksum(store, key, b.array(), b.position()));
    }
    if (b.hasRemaining()) {
      throw new IllegalStateException("frame body shorter than declared");
    }
    return b.array();
  }

  /**
   * The body of a stored frame of {@code tag}, as a buffer positioned at the body and limited to
   * its end, after checking tag, flags and CRC.
   *
   * @param where what the record is, for the message, e.g. {@code "key 'a' (0x61)"}
   */
  ByteBuffer open(byte tag, StoreId store, byte[] key, byte[] stored, String where) {
    return open(tag, store, key, stored, where, null);
  }

  /**
   * {@link #open(byte, StoreId, byte[], byte[], String)} for the hot reads (entries, log records):
   * the record's place is named by {@code where.apply(key)}, built only when a check fails, so a
   * read that passes builds no message text (a key's display string was ~5 % of a read's CPU).
   */
  ByteBuffer open(
      byte tag, StoreId store, byte[] key, byte[] stored, Function<byte[], String> where) {
    return open(tag, store, key, stored, null, where);
  }

  private ByteBuffer open(
      byte tag,
      StoreId store,
      byte[] key,
      byte[] stored,
      String fixedWhere,
      Function<byte[], String> keyWhere) {
    if (stored.length < 2 || stored[0] != tag) {
      throw corrupt(
          store, where(fixedWhere, keyWhere, key), "does not start with the expected record tag");
    }
    boolean hasCrc = (stored[1] & CRC_FLAG) != 0;
    if ((stored[1] & ~CRC_FLAG) != 0) {
      throw corrupt(store, where(fixedWhere, keyWhere, key), "has unknown flags " + stored[1]);
    }
    int end = stored.length;
    if (hasCrc) {
      if (stored.length < 6) {
        throw corrupt(store, where(fixedWhere, keyWhere, key), "is too short for its checksum");
      }
      end -= 4;
      int recorded = ByteBuffer.wrap(stored, end, 4).getInt();
      int actual = (int) checksum(store, key, stored, end);
      if (recorded != actual) {
        throw corrupt(
            store,
            where(fixedWhere, keyWhere, key),
            String.format(
                "fails its CRC-32C (recorded %08x, computed %08x over store, key and value)",
                recorded, actual));
      }
    }
    return ByteBuffer.wrap(stored, 2, end - 2).slice();
  }

  private static String where(String fixed, Function<byte[], String> ofKey, byte[] key) {
    return fixed != null ? fixed : ofKey.apply(key);
  }

  StoreCorruptedException corrupt(StoreId store, String where, String what) {
    return new StoreCorruptedException(
        "Backend '"
            + backend
            + "': "
            + where
            + " of "
            + ArgumentChecks.kindName(store.kind())
            + " '"
            + store.name()
            + "' "
            + what
            + "; it is not returned. Run 'cairn verify' and restore from a backup.");
  }

  private static long checksum(StoreId store, byte[] key, byte[] data, int len) {
    CRC32C c = new CRC32C();
    c.update(store.kind().ordinal());
    c.update(store.name().getBytes(StandardCharsets.UTF_8));
    c.update(0);
    c.update(key.length >>> 8);
    c.update(key.length);
    c.update(key);
    c.update(data, 0, len);
    return c.getValue();
  }
}
