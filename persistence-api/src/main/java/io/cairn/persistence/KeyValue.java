package io.cairn.persistence;

import java.util.Objects;

/** A key and a value to write, used by batch writes. */
public record KeyValue(byte[] key, byte[] value) {
  public KeyValue {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
  }
}
