package io.cairn.persistence;

import java.util.Arrays;

/**
 * One record read from a {@link LogStore}.
 *
 * <p>Equality is by content: the offset and the bytes of the payload. The append time is metadata
 * about when the record was stored, not part of what was stored, so it deliberately takes no part
 * in {@link #equals}/{@link #hashCode}: a record read back from a backend equals the record an
 * application expects from its offset and payload, whatever the clock said. Compare {@link
 * #appendedAtMillis()} explicitly where it matters (export, import, migration). {@link #toString()}
 * shows the payload's size only, never its bytes.
 *
 * @param offset the record's offset, assigned at append
 * @param payload the bytes appended
 * @param appendedAtMillis when the record was appended, in epoch milliseconds from the backend
 *     context's clock, stored with the record; {@link #NOT_RECORDED} ({@code -1}) for a record
 *     written before its backend's format stored the time
 */
public record LogRecord(long offset, byte[] payload, long appendedAtMillis) {
  /** {@link #appendedAtMillis()} of a record written before the format stored the append time. */
  public static final long NOT_RECORDED = -1;

  /**
   * @throws IllegalArgumentException if {@code appendedAtMillis} is negative and not {@link
   *     #NOT_RECORDED}
   */
  public LogRecord {
    if (appendedAtMillis < NOT_RECORDED) {
      throw new IllegalArgumentException(
          "appendedAtMillis must be >= 0, or -1 for not recorded, but is " + appendedAtMillis);
    }
  }

  /** A record whose append time is not recorded ({@link #NOT_RECORDED}). */
  public LogRecord(long offset, byte[] payload) {
    this(offset, payload, NOT_RECORDED);
  }

  /** Whether the append time was stored with the record. */
  public boolean hasAppendTime() {
    return appendedAtMillis != NOT_RECORDED;
  }

  /** By offset and payload bytes only; the append time takes no part (see the class comment). */
  @Override
  public boolean equals(Object o) {
    return o instanceof LogRecord r && offset == r.offset && Arrays.equals(payload, r.payload);
  }

  @Override
  public int hashCode() {
    return 31 * Long.hashCode(offset) + Arrays.hashCode(payload);
  }

  /** Size only: {@code LogRecord[offset=7, payload=10 bytes, appendedAt=1765000000000]}. */
  @Override
  public String toString() {
    return "LogRecord[offset="
        + offset
        + ", payload="
        + KeyValue.size(payload)
        + ", appendedAt="
        + (hasAppendTime() ? Long.toString(appendedAtMillis) : "not recorded")
        + "]";
  }
}
