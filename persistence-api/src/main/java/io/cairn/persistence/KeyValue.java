package io.cairn.persistence;

import java.util.Arrays;
import java.util.Objects;

/**
 * A key and a value to write, used by batch writes.
 *
 * <p>Equality is by content (the bytes of key and value). {@link #toString()} shows sizes only,
 * never the bytes.
 *
 * @param key the key, not null
 * @param value the value, not null
 */
public record KeyValue(byte[] key, byte[] value) {
  public KeyValue {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof KeyValue kv && Arrays.equals(key, kv.key) && Arrays.equals(value, kv.value);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(key) + Arrays.hashCode(value);
  }

  /** Sizes only: {@code KeyValue[key=3 bytes, value=10 bytes]}. */
  @Override
  public String toString() {
    return "KeyValue[key=" + size(key) + ", value=" + size(value) + "]";
  }

  /** How the records of this package show a byte array in {@code toString}: its size only. */
  static String size(byte[] bytes) {
    return bytes == null ? "null" : bytes.length + (bytes.length == 1 ? " byte" : " bytes");
  }
}
