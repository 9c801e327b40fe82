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

  /**
   * How every Cairn message shows a key: printable ASCII keys as text and hex, {@code 'o-1'
   * (0x6f2d31)}, other keys as hex only, {@code 0x00ff}; at most the first 32 bytes, then the
   * length. The one helper for this, so every backend and subsystem shows keys alike. A backend
   * with encryption on shows {@link #REDACTED} instead (see {@link #toDisplay(byte[], boolean)}).
   */
  public static String toDisplay(byte[] key) {
    if (key == null) {
      return "null";
    }
    int n = Math.min(key.length, 32);
    StringBuilder hex = new StringBuilder("0x");
    boolean printable = key.length > 0;
    for (int i = 0; i < n; i++) {
      hex.append(Character.forDigit((key[i] >> 4) & 0xF, 16))
          .append(Character.forDigit(key[i] & 0xF, 16));
      printable &= key[i] >= 0x20 && key[i] < 0x7f;
    }
    String more = key.length > n ? "...(" + key.length + " bytes)" : "";
    if (!printable) {
      return hex + more;
    }
    String text = new String(key, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
    return "'" + text + (more.isEmpty() ? "" : "...") + "' (" + hex + more + ")";
  }

  /** What {@link #toDisplay(byte[], boolean)} shows for a key it must not reveal. */
  public static final String REDACTED = "<redacted key>";

  /**
   * {@link #toDisplay(byte[])}, or {@link #REDACTED} when {@code redact} (a backend with encryption
   * on must not put plaintext keys into messages and logs).
   */
  public static String toDisplay(byte[] key, boolean redact) {
    return redact ? REDACTED + " (" + (key == null ? 0 : key.length) + " bytes)" : toDisplay(key);
  }
}
