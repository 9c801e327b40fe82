package io.cairn.pekko;

import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.spi.Bytes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Key layout shared by the journal, the snapshot store and the read journal. The layouts themselves
 * are described at the top of {@link CairnJournal} and {@link CairnSnapshotStore}.
 *
 * <p>A per-sequence-number key is {@code kind (1 byte) | length of the UTF-8 persistence id (2
 * bytes, big-endian) | persistence id (UTF-8) | sequence number (8 bytes, big-endian)}. The length
 * prefix makes one persistence id's keys a contiguous range that no other id's keys interleave with
 * (without it {@code "a"} and {@code "a\u0000..."} could share a prefix), and the big-endian
 * sequence number makes unsigned byte order equal numeric order for the non-negative numbers Pekko
 * uses, so a range {@code [from, to]} is one ordered scan.
 */
final class Keys {
  /** Largest UTF-8 persistence id that fits the KV key cap with kind, length and seqNr. */
  static final int MAX_PERSISTENCE_ID_BYTES = KeyValueStore.MAX_KEY_BYTES - 1 - 2 - 8;

  private Keys() {}

  /**
   * The UTF-8 bytes of {@code persistenceId}, checked against {@link #MAX_PERSISTENCE_ID_BYTES}.
   */
  static byte[] pidBytes(String persistenceId) {
    Objects.requireNonNull(persistenceId, "persistenceId");
    byte[] b = persistenceId.getBytes(StandardCharsets.UTF_8);
    if (b.length == 0 || b.length > MAX_PERSISTENCE_ID_BYTES) {
      throw new IllegalArgumentException(
          "persistenceId of "
              + b.length
              + " UTF-8 bytes is outside 1.."
              + MAX_PERSISTENCE_ID_BYTES
              + " (Cairn keys are at most "
              + KeyValueStore.MAX_KEY_BYTES
              + " bytes); use a shorter persistenceId. Nothing was written.");
    }
    return b;
  }

  /** {@code kind | len | pid}: the prefix of every per-sequence-number key of one id. */
  static byte[] prefix(byte kind, byte[] pid) {
    ByteBuffer buf = ByteBuffer.allocate(1 + 2 + pid.length);
    buf.put(kind).putShort((short) pid.length).put(pid);
    return buf.array();
  }

  /** {@code prefix | seqNr}. */
  static byte[] seqKey(byte[] prefix, long seqNr) {
    return ByteBuffer.allocate(prefix.length + 8).put(prefix).putLong(seqNr).array();
  }

  /**
   * Exclusive upper bound of the keys of {@code prefix} with sequence number {@code <= to}. A
   * negative {@code to} selects nothing: encoded as is, -1 would be {@code 0xFF..FF}, above every
   * sequence number, and a delete up to it would remove everything.
   */
  static byte[] upperBound(byte[] prefix, long toInclusive) {
    if (toInclusive < 0) {
      return seqKey(prefix, 0);
    }
    return toInclusive == Long.MAX_VALUE
        ? Bytes.prefixUpperBound(prefix)
        : seqKey(prefix, toInclusive + 1);
  }

  /** The sequence number at the end of a per-sequence-number key. */
  static long seqOf(byte[] key) {
    return ByteBuffer.wrap(key, key.length - 8, 8).getLong();
  }

  /** {@code kind | pid}: a per-id key (no sequence number), ordered by persistence id bytes. */
  static byte[] idKey(byte kind, byte[] pid) {
    byte[] k = new byte[1 + pid.length];
    k[0] = kind;
    System.arraycopy(pid, 0, k, 1, pid.length);
    return k;
  }

  /** The persistence id of a per-id key. */
  static String idOf(byte[] idKey) {
    return new String(idKey, 1, idKey.length - 1, StandardCharsets.UTF_8);
  }

  /** The smallest key greater than {@code key} (for resuming a scan after {@code key}). */
  static byte[] after(byte[] key) {
    byte[] k = new byte[key.length + 1];
    System.arraycopy(key, 0, k, 0, key.length);
    return k;
  }
}
