package io.cairn.queue;

import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.Bytes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Binary formats of the queue's stored records. The layout is described in {@link QueueLog}; this
 * class only encodes and decodes it. Every decode checks the format byte and length and throws
 * {@link StoreCorruptedException} naming the store and key rather than return garbage.
 */
final class Records {
  static final byte FORMAT = 1;

  static final byte READY = 1;
  static final byte LEASED = 2;
  static final byte ACKED = 3;
  static final byte DEAD = 4;

  private Records() {}

  /** Key of a per-message record: the offset as 8 bytes big-endian (offsets are >= 0). */
  static byte[] key(long offset) {
    return ByteBuffer.allocate(8).putLong(offset).array();
  }

  static long offsetOf(byte[] key, String store) {
    if (key.length != 8) {
      throw corrupt(store, key, "key of " + key.length + " bytes, expected 8");
    }
    return ByteBuffer.wrap(key).getLong();
  }

  // ---- log record: [format 1][enqueuedAt millis 8][payload]

  static byte[] message(long enqueuedAt, byte[] payload) {
    return ByteBuffer.allocate(9 + payload.length)
        .put(FORMAT)
        .putLong(enqueuedAt)
        .put(payload)
        .array();
  }

  static long messageEnqueuedAt(byte[] record, String log, long offset) {
    checkMessage(record, log, offset);
    return ByteBuffer.wrap(record, 1, 8).getLong();
  }

  static byte[] messagePayload(byte[] record, String log, long offset) {
    checkMessage(record, log, offset);
    return Arrays.copyOfRange(record, 9, record.length);
  }

  private static void checkMessage(byte[] record, String log, long offset) {
    if (record.length < 9 || record[0] != FORMAT) {
      throw corrupt(log, key(offset), "message record of " + record.length + " bytes");
    }
  }

  // ---- state record: [format 1][status 1][attempts 4][at millis 8]

  /** Decoded state record. {@code at} is visible-at (READY) or lease deadline (LEASED). */
  record State(byte status, int attempts, long at) {}

  static byte[] state(byte status, int attempts, long at) {
    return ByteBuffer.allocate(14).put(FORMAT).put(status).putInt(attempts).putLong(at).array();
  }

  static State state(byte[] value, String store, byte[] key) {
    if (value.length != 14 || value[0] != FORMAT || value[1] < READY || value[1] > DEAD) {
      throw corrupt(store, key, "state record of " + value.length + " bytes");
    }
    ByteBuffer b = ByteBuffer.wrap(value, 2, 12);
    int attempts = b.getInt();
    long at = b.getLong();
    if (attempts < 0) {
      throw corrupt(store, key, "negative attempt count " + attempts);
    }
    return new State(value[1], attempts, at);
  }

  // ---- dead letter: [format 1][attempts 4][enqueuedAt 8][deadAt 8][reason length
  // 4][reason][payload]

  static byte[] dead(int attempts, long enqueuedAt, long deadAt, String reason, byte[] payload) {
    byte[] r = reason.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(25 + r.length + payload.length)
        .put(FORMAT)
        .putInt(attempts)
        .putLong(enqueuedAt)
        .putLong(deadAt)
        .putInt(r.length)
        .put(r)
        .put(payload)
        .array();
  }

  static DeadLetter<byte[]> dead(byte[] key, byte[] value, String store) {
    long id = offsetOf(key, store);
    if (value.length < 25 || value[0] != FORMAT) {
      throw corrupt(store, key, "dead-letter record of " + value.length + " bytes");
    }
    ByteBuffer b = ByteBuffer.wrap(value, 1, value.length - 1);
    int attempts = b.getInt();
    long enqueuedAt = b.getLong();
    long deadAt = b.getLong();
    int reasonLength = b.getInt();
    if (reasonLength < 0 || reasonLength > value.length - 25) {
      throw corrupt(store, key, "dead-letter reason length " + reasonLength);
    }
    String reason = new String(value, 25, reasonLength, StandardCharsets.UTF_8);
    byte[] payload = Arrays.copyOfRange(value, 25 + reasonLength, value.length);
    return new DeadLetter<>(
        id,
        payload,
        attempts,
        java.time.Instant.ofEpochMilli(enqueuedAt),
        java.time.Instant.ofEpochMilli(deadAt),
        reason);
  }

  // ---- meta: key "floor" -> 8 bytes

  static final byte[] FLOOR_KEY = "floor".getBytes(StandardCharsets.US_ASCII);

  static byte[] longValue(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }

  static long longValue(byte[] value, String store, byte[] key) {
    if (value.length != 8) {
      throw corrupt(store, key, "value of " + value.length + " bytes, expected 8");
    }
    return ByteBuffer.wrap(value).getLong();
  }

  static StoreCorruptedException corrupt(String store, byte[] key, String what) {
    return new StoreCorruptedException(
        "Queue store '"
            + store
            + "' holds an unreadable record at key "
            + Bytes.toDisplay(key)
            + " ("
            + what
            + "). Run `cairn verify` on the backend; restore from a backup if the data is damaged.");
  }
}
