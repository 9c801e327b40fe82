package io.cairn.persistence;

import java.util.Arrays;

/**
 * One record read from a {@link LogStore}.
 *
 * <p>Equality is by content (offset and the bytes of the payload). {@link #toString()} shows the
 * payload's size only, never its bytes.
 *
 * @param offset the record's offset, assigned at append
 * @param payload the bytes appended
 */
public record LogRecord(long offset, byte[] payload) {
  @Override
  public boolean equals(Object o) {
    return o instanceof LogRecord r && offset == r.offset && Arrays.equals(payload, r.payload);
  }

  @Override
  public int hashCode() {
    return 31 * Long.hashCode(offset) + Arrays.hashCode(payload);
  }

  /** Size only: {@code LogRecord[offset=7, payload=10 bytes]}. */
  @Override
  public String toString() {
    return "LogRecord[offset=" + offset + ", payload=" + KeyValue.size(payload) + "]";
  }
}
