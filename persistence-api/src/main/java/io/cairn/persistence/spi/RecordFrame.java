package io.cairn.persistence.spi;

import io.cairn.persistence.LogRecord;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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

  /** Where a frame's body starts: after the tag and the flags. */
  static final int BODY = 2;

  private static final int CRC_FLAG = 1;

  /** A big-endian long in a byte array, as {@link ByteBuffer#putLong} writes it. */
  private static final VarHandle LONG_BE =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  /** A big-endian int in a byte array, as {@link ByteBuffer#putInt} writes it (the CRC trailer). */
  private static final VarHandle INT_BE =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

  private final String backend;
  private final boolean crc;

  RecordFrame(String backend, boolean engineChecksums) {
    this.backend = backend;
    this.crc = !engineChecksums;
  }

  /** Whether frames carry the CRC-32C trailer (the engine does not checksum records itself). */
  boolean hasCrc() {
    return crc;
  }

  /**
   * A store as its records' checksum covers it: its kind and name, encoded once. A long-lived store
   * (a key-value namespace) holds its own, so its reads and writes do not encode the name again for
   * every record; the other callers pass a {@link StoreId} and it is built per record.
   */
  record Store(StoreId id, byte[] checksumPrefix) {
    static Store of(StoreId id) {
      byte[] name = id.name().getBytes(StandardCharsets.UTF_8);
      byte[] prefix = new byte[name.length + 2];
      prefix[0] = (byte) id.kind().ordinal();
      System.arraycopy(name, 0, prefix, 1, name.length);
      return new Store(id, prefix); // last byte 0: the name's end
    }
  }

  /** A buffer for a frame of {@code tag} with {@code bodyBytes} bytes of body, header written. */
  ByteBuffer begin(byte tag, int bodyBytes) {
    ByteBuffer b = ByteBuffer.allocate(2 + bodyBytes + (crc ? 4 : 0));
    b.put(tag).put((byte) (crc ? CRC_FLAG : 0));
    return b;
  }

  /**
   * The frame of a key-value entry: tag {@link #KV}, body {@code version | expiresAtMillis |
   * sealed}: one per put, written by the base and by {@link EngineRecords} (an importer's or a
   * migration's entries) through this one method, straight into the record's array.
   */
  byte[] entry(long version, long expiresAtMillis, byte[] sealed, Store store, byte[] key) {
    byte[] f = header(KV, 16 + sealed.length);
    LONG_BE.set(f, BODY, version);
    LONG_BE.set(f, BODY + 8, expiresAtMillis);
    System.arraycopy(sealed, 0, f, BODY + 16, sealed.length);
    return trailed(f, store, key);
  }

  /**
   * The frame of a log record: tag {@link #LOG_TIMED}, body {@code appendedAtMillis | sealed}; or,
   * for a record whose append time was never stored ({@code appendedAtMillis} = {@code
   * LogRecord.NOT_RECORDED}), tag {@link #LOG} and body {@code sealed}.
   */
  byte[] logRecord(long appendedAtMillis, byte[] sealed, StoreId store, byte[] key) {
    boolean timed = appendedAtMillis != LogRecord.NOT_RECORDED;
    int at = timed ? 8 : 0;
    byte[] f = header(timed ? LOG_TIMED : LOG, at + sealed.length);
    if (timed) {
      LONG_BE.set(f, BODY, appendedAtMillis);
    }
    System.arraycopy(sealed, 0, f, BODY + at, sealed.length);
    return trailed(f, crc ? Store.of(store) : null, key);
  }

  /** A frame's array of {@code bodyBytes} bytes of body, tag and flags written. */
  private byte[] header(byte tag, int bodyBytes) {
    byte[] f = new byte[BODY + bodyBytes + (crc ? 4 : 0)];
    f[0] = tag;
    f[1] = (byte) (crc ? CRC_FLAG : 0);
    return f;
  }

  /** {@code f} with its CRC trailer written when frames carry one; its body is complete. */
  private byte[] trailed(byte[] f, Store store, byte[] key) {
    if (crc) {
      int end = f.length - 4;
      INT_BE.set(f, end, (int) checksum(store, key, f, end));
    }
    return f;
  }

  /** Completes a frame begun by {@link #begin} once its body is written; returns the bytes. */
  byte[] end(ByteBuffer b, StoreId store, byte[] key) {
    if (b.position() != b.capacity() - (crc ? 4 : 0)) {
      throw new IllegalStateException("frame body shorter than declared");
    }
    return trailed(b.array(), crc ? Store.of(store) : null, key);
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

  /**
   * {@link #open(byte, StoreId, byte[], byte[], Function)} without a buffer, for a store that holds
   * its {@link Store}: checks the frame the same way and returns where its body ends in {@code
   * stored} (it starts at {@link #BODY}), for the hottest read, a key-value entry's, which reads
   * its fields by index ({@link #longAt}).
   */
  int bodyEnd(byte tag, Store store, byte[] key, byte[] stored, Function<byte[], String> where) {
    return checkedEnd(tag, store.id(), store, key, stored, null, where);
  }

  /**
   * The big-endian long at {@code offset} of {@code bytes}, as {@link ByteBuffer#getLong} reads it.
   */
  static long longAt(byte[] bytes, int offset) {
    return (long) LONG_BE.get(bytes, offset);
  }

  private ByteBuffer open(
      byte tag,
      StoreId store,
      byte[] key,
      byte[] stored,
      String fixedWhere,
      Function<byte[], String> keyWhere) {
    int end = checkedEnd(tag, store, null, key, stored, fixedWhere, keyWhere);
    return ByteBuffer.wrap(stored, BODY, end - BODY).slice();
  }

  /** {@code framed}: the store's {@link Store} when its caller holds one, else null. */
  private int checkedEnd(
      byte tag,
      StoreId store,
      Store framed,
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
      int actual = (int) checksum(framed != null ? framed : Store.of(store), key, stored, end);
      if (recorded != actual) {
        throw corrupt(
            store,
            where(fixedWhere, keyWhere, key),
            String.format(
                "fails its CRC-32C (recorded %08x, computed %08x over store, key and value)",
                recorded, actual));
      }
    }
    return end;
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

  private static long checksum(Store store, byte[] key, byte[] data, int len) {
    CRC32C c = new CRC32C();
    c.update(store.checksumPrefix()); // kind, name, 0
    c.update(key.length >>> 8);
    c.update(key.length);
    c.update(key);
    c.update(data, 0, len);
    return c.getValue();
  }
}
