package io.cairn.persistence.spi;

import java.util.Arrays;
import java.util.Comparator;

/** Byte-array helpers shared by backends, so every backend orders and bounds keys the same way. */
public final class Bytes {
  private Bytes() {}

  /** Unsigned lexicographic order, the order of {@link io.cairn.persistence.KeyValueStore#scan}. */
  public static final Comparator<byte[]> UNSIGNED = Arrays::compareUnsigned;

  /**
   * The smallest key greater than every key starting with {@code prefix}, or {@code null} if there
   * is none (the prefix is empty or all 0xFF).
   */
  public static byte[] prefixUpperBound(byte[] prefix) {
    for (int i = prefix.length - 1; i >= 0; i--) {
      if (prefix[i] != (byte) 0xFF) {
        byte[] bound = Arrays.copyOf(prefix, i + 1);
        bound[i]++;
        return bound;
      }
    }
    return null;
  }

  /** Hex rendering for messages: at most the first 32 bytes, then an ellipsis. */
  public static String toDisplay(byte[] key) {
    if (key == null) {
      return "null";
    }
    StringBuilder sb = new StringBuilder("0x");
    int n = Math.min(key.length, 32);
    for (int i = 0; i < n; i++) {
      sb.append(Character.forDigit((key[i] >> 4) & 0xF, 16))
          .append(Character.forDigit(key[i] & 0xF, 16));
    }
    if (key.length > n) {
      sb.append("...(").append(key.length).append(" bytes)");
    }
    return sb.toString();
  }
}
