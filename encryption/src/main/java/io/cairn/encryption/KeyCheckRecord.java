package io.cairn.encryption;

import io.cairn.persistence.PersistenceException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A backend's key check record, version 2: its key salt, its per-key message counts and the sealed
 * check constant. Kept by the registry in the file {@code cairn.keycheck} of the data directory (or
 * table {@code cairn_keycheck} on PostgreSQL) and rewritten by {@link TinkEncryption} through the
 * {@link io.cairn.persistence.spi.KeyCheckStore} it is attached to. Immutable.
 *
 * <h2>Layout (version 2), integers big-endian</h2>
 *
 * <pre>
 * "cairn-kc" (8 bytes ASCII)   magic; a version 1 record is Tink's sealed bytes alone and starts
 *                              with 0x01, so the two never look alike
 * u8                           version, 2
 * 32 bytes                     salt: random, written once when the backend is first encrypted (or
 *                              its version 1 record upgraded); the AES-256-GCM keys this backend
 *                              uses are derived from the keyset's keys with it
 * u16                          number of key entries, then per AES-256-GCM key, ascending id:
 *   u32                        key id
 *   u8                         0 = the keyset's key as it is (data written before version 2, or
 *                              by Cairn before per-backend keys), 1 = derived with the salt
 *   i64                        messages counted under the key in this backend: reserved in blocks
 *                              before they are sealed, so never fewer than were sealed
 * rest                         the check constant sealed under the primary key of its time
 * </pre>
 *
 * <b>Recovery.</b> The record is replaced atomically (a file renamed over the old one and its
 * directory synced, or one SQL statement), so it is either the old or the new one after a crash; a
 * count is always written before the messages it covers are sealed. An AES-256-GCM key without an
 * entry is derived (no data of this backend can be under it: an entry is written before its first
 * message, and upgrading a version 1 record lists every AES-256-GCM key of the keyset as it is).
 *
 * <p>Not authenticated beyond the sealed constant (whose key is derived with the salt when the
 * primary is AES-256-GCM): whoever can write the data directory can roll the counts back, as they
 * can roll back any file there; the counts guard against reaching the limit by use, not against
 * that.
 */
final class KeyCheckRecord {
  static final int SALT_SIZE = 32;
  private static final byte[] MAGIC = "cairn-kc".getBytes(StandardCharsets.US_ASCII);
  private static final int VERSION = 2;

  /** One AES-256-GCM key's entry. */
  record Entry(boolean derived, long counted) {}

  private final byte[] salt;
  private final SortedMap<Long, Entry> keys;
  private final byte[] sealed;

  KeyCheckRecord(byte[] salt, SortedMap<Long, Entry> keys, byte[] sealed) {
    if (salt.length != SALT_SIZE) {
      throw new IllegalArgumentException("salt of " + salt.length + " bytes");
    }
    this.salt = salt.clone();
    this.keys = Collections.unmodifiableSortedMap(new TreeMap<>(keys));
    this.sealed = sealed.clone();
  }

  /** Whether {@code bytes} is a version 2 record (else it is a version 1 record: sealed bytes). */
  static boolean isVersion2(byte[] bytes) {
    return bytes.length > MAGIC.length
        && Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
  }

  byte[] salt() {
    return salt.clone();
  }

  SortedMap<Long, Entry> keys() {
    return keys;
  }

  byte[] sealed() {
    return sealed.clone();
  }

  /** Messages counted under {@code keyId}; 0 when it has no entry. */
  long counted(long keyId) {
    Entry e = keys.get(keyId);
    return e == null ? 0 : e.counted();
  }

  /** Whether {@code keyId} (an AES-256-GCM key) is derived in this backend. */
  boolean derived(long keyId) {
    Entry e = keys.get(keyId);
    return e == null || e.derived();
  }

  KeyCheckRecord withCounted(long keyId, long counted) {
    TreeMap<Long, Entry> next = new TreeMap<>(keys);
    next.put(keyId, new Entry(derived(keyId), counted));
    return new KeyCheckRecord(salt, next, sealed);
  }

  KeyCheckRecord withSealed(byte[] newSealed) {
    return new KeyCheckRecord(salt, keys, newSealed);
  }

  byte[] encode() {
    ByteBuffer b =
        ByteBuffer.allocate(MAGIC.length + 1 + SALT_SIZE + 2 + 13 * keys.size() + sealed.length);
    b.put(MAGIC).put((byte) VERSION).put(salt).putShort((short) keys.size());
    keys.forEach(
        (id, e) ->
            b.putInt((int) (long) id).put((byte) (e.derived() ? 1 : 0)).putLong(e.counted()));
    b.put(sealed);
    return b.array();
  }

  /**
   * @throws PersistenceException naming {@code location} when the bytes are not a whole version 2
   *     record
   */
  static KeyCheckRecord decode(byte[] bytes, String location) {
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      b.position(MAGIC.length);
      int version = b.get() & 0xff;
      if (version != VERSION) {
        throw new PersistenceException(
            "The key check record ("
                + location
                + ") has version "
                + version
                + ", which this Cairn does not know (it knows 1 and 2): open the backend with the"
                + " Cairn version that wrote it");
      }
      byte[] salt = new byte[SALT_SIZE];
      b.get(salt);
      int n = b.getShort() & 0xffff;
      TreeMap<Long, Entry> keys = new TreeMap<>();
      for (int i = 0; i < n; i++) {
        long id = Integer.toUnsignedLong(b.getInt());
        int mode = b.get();
        long counted = b.getLong();
        if ((mode != 0 && mode != 1) || counted < 0) {
          throw new IllegalArgumentException("entry " + i);
        }
        keys.put(id, new Entry(mode == 1, counted));
      }
      byte[] sealed = new byte[b.remaining()];
      b.get(sealed);
      if (sealed.length == 0) {
        throw new IllegalArgumentException("no sealed constant");
      }
      return new KeyCheckRecord(salt, keys, sealed);
    } catch (RuntimeException e) {
      if (e instanceof PersistenceException p) {
        throw p;
      }
      throw new PersistenceException(
          "The key check record ("
              + location
              + ") is damaged ("
              + e.getClass().getSimpleName()
              + "): restore it from a backup of this backend; without it the AES-256-GCM keys"
              + " this backend derived cannot be rebuilt");
    }
  }
}
