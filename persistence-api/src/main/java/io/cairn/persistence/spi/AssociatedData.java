package io.cairn.persistence.spi;

import io.cairn.persistence.StoreKind;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The one builder of the associated data that {@link Encryption} binds to every ciphertext, so a
 * sealed value, log payload or snapshot chunk moved anywhere else fails to open. Every backend
 * (through {@link Sealer}) uses these bytes; changing the layout makes every encrypted store
 * unreadable, so it is versioned.
 *
 * <h2>Layout (version 1), all integers big-endian</h2>
 *
 * <pre>
 * "cairn-ad" (8 bytes ASCII)  magic, so the bytes are recognisable and cannot collide with another
 *                             protocol's associated data
 * 1 byte                      layout version, 1
 * 1 byte                      store kind: 'K' key-value, 'L' log, 'S' snapshot
 * u16 + UTF-8                 backend instance name
 * u16 + UTF-8                 store name
 * address, by kind:
 *   K: u32 + key bytes        the key
 *   L: i64                    the record's offset
 *   S: i64 + i32              the snapshot version and the chunk index
 * </pre>
 *
 * Every variable-length field is length-prefixed, so the encoding is injective: two different
 * places never give the same bytes (no "ab"+"c" = "a"+"bc" ambiguity).
 */
public final class AssociatedData {
  private static final byte[] MAGIC = "cairn-ad".getBytes(StandardCharsets.US_ASCII);
  private static final int LAYOUT = 1;

  private AssociatedData() {}

  /** For the value of {@code key} in key-value namespace {@code namespace} of {@code backend}. */
  public static byte[] forValue(String backend, String namespace, byte[] key) {
    return forValue(header(backend, StoreKind.KEY_VALUE, namespace), key);
  }

  /** For the payload of the record at {@code offset} in log {@code log} of {@code backend}. */
  public static byte[] forLogRecord(String backend, String log, long offset) {
    return forLogRecord(header(backend, StoreKind.LOG, log), offset);
  }

  /** For chunk {@code chunk} of snapshot {@code version} in set {@code set} of {@code backend}. */
  public static byte[] forSnapshotChunk(String backend, String set, long version, int chunk) {
    return forSnapshotChunk(header(backend, StoreKind.SNAPSHOT, set), version, chunk);
  }

  /**
   * The fixed part of the layout, everything before the address, for one store: built once per
   * store and reused with the overloads below, so a seal or open does not encode the backend and
   * store names again (the encoding was a measurable share of Cairn's own cost per call).
   */
  public static byte[] header(String backend, StoreKind kind, String store) {
    byte[] b = Objects.requireNonNull(backend, "backend").getBytes(StandardCharsets.UTF_8);
    byte[] s = Objects.requireNonNull(store, "store").getBytes(StandardCharsets.UTF_8);
    if (b.length > 0xFFFF || s.length > 0xFFFF) {
      throw new IllegalArgumentException("backend or store name longer than 65535 bytes");
    }
    Out out = new Out(MAGIC.length + 2 + 4 + b.length + s.length);
    out.bytes(MAGIC);
    out.u8(LAYOUT);
    out.u8(
        switch (kind) {
          case KEY_VALUE -> 'K';
          case LOG -> 'L';
          case SNAPSHOT -> 'S';
        });
    out.u16(b.length);
    out.bytes(b);
    out.u16(s.length);
    out.bytes(s);
    return out.buf;
  }

  /** For the value of {@code key}, after a {@link StoreKind#KEY_VALUE} {@link #header}. */
  public static byte[] forValue(byte[] header, byte[] key) {
    Objects.requireNonNull(key, "key");
    Out out = new Out(header, 4 + key.length);
    out.i32(key.length);
    out.bytes(key);
    return out.buf;
  }

  /** For the record at {@code offset}, after a {@link StoreKind#LOG} {@link #header}. */
  public static byte[] forLogRecord(byte[] header, long offset) {
    Out out = new Out(header, 8);
    out.i64(offset);
    return out.buf;
  }

  /** For a snapshot chunk, after a {@link StoreKind#SNAPSHOT} {@link #header}. */
  public static byte[] forSnapshotChunk(byte[] header, long version, int chunk) {
    Out out = new Out(header, 12);
    out.i64(version);
    out.i32(chunk);
    return out.buf;
  }

  /**
   * A fixed-size array filled in order; sized exactly by {@link #header}, so the finished array is
   * the result without a copy. (Not a ByteArrayOutputStream: its synchronized writes and final copy
   * were measurable on every seal and open.)
   */
  private static final class Out {
    final byte[] buf;
    private int pos;

    Out(int size) {
      buf = new byte[size];
    }

    /** Starting with {@code header}, room for {@code extra} more bytes. */
    Out(byte[] header, int extra) {
      buf = new byte[header.length + extra];
      System.arraycopy(header, 0, buf, 0, header.length);
      pos = header.length;
    }

    void u8(int v) {
      buf[pos++] = (byte) v;
    }

    void bytes(byte[] b) {
      System.arraycopy(b, 0, buf, pos, b.length);
      pos += b.length;
    }

    void u16(int v) {
      u8(v >>> 8);
      u8(v);
    }

    void i32(int v) {
      u16(v >>> 16);
      u16(v);
    }

    void i64(long v) {
      i32((int) (v >>> 32));
      i32((int) v);
    }
  }
}
