package io.cairn.persistence;

import java.util.Arrays;

/**
 * One key-value entry as stored. Arrays are owned by the caller after return; a store never keeps
 * or reuses them.
 *
 * <p>Equality is by content: two entries are equal when their keys and values hold the same bytes
 * and their versions and expiry instants are equal ({@link #hashCode()} agrees). {@link
 * #toString()} shows sizes, version and expiry, never the bytes of the key or the value (they may
 * be secret; see {@code docs/security.md}).
 *
 * @param key the key
 * @param value the value
 * @param version the entry's version, at least 1
 * @param expiresAtMillis epoch millis (by the backend's clock) after which the entry is invisible,
 *     or 0 for no expiry
 */
public record Entry(byte[] key, byte[] value, long version, long expiresAtMillis) {
  @Override
  public boolean equals(Object o) {
    return o instanceof Entry e
        && version == e.version
        && expiresAtMillis == e.expiresAtMillis
        && Arrays.equals(key, e.key)
        && Arrays.equals(value, e.value);
  }

  @Override
  public int hashCode() {
    int h = Arrays.hashCode(key);
    h = 31 * h + Arrays.hashCode(value);
    h = 31 * h + Long.hashCode(version);
    return 31 * h + Long.hashCode(expiresAtMillis);
  }

  /** Sizes only: {@code Entry[key=3 bytes, value=10 bytes, version=2, expiresAtMillis=0]}. */
  @Override
  public String toString() {
    return "Entry[key="
        + KeyValue.size(key)
        + ", value="
        + KeyValue.size(value)
        + ", version="
        + version
        + ", expiresAtMillis="
        + expiresAtMillis
        + "]";
  }
}
