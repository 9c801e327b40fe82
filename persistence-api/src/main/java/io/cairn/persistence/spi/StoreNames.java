package io.cairn.persistence.spi;

import io.cairn.persistence.KeyValueStore;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Argument checks shared by every backend, so that every backend rejects the same bad input with
 * the same message before touching stored data.
 */
public final class StoreNames {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private StoreNames() {}

  /** Returns {@code name} if it is a valid store name, else throws IllegalArgumentException. */
  public static String check(String kind, String name) {
    Objects.requireNonNull(name, kind + " name");
    if (!NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "Invalid "
              + kind
              + " name '"
              + name
              + "': use 1-128 characters from [A-Za-z0-9._-], starting with a letter or digit");
    }
    return name;
  }

  public static void checkKey(byte[] key) {
    Objects.requireNonNull(key, "key");
    if (key.length == 0 || key.length > KeyValueStore.MAX_KEY_BYTES) {
      throw new IllegalArgumentException(
          "Key length "
              + key.length
              + " is outside 1.."
              + KeyValueStore.MAX_KEY_BYTES
              + " bytes; nothing was written");
    }
  }

  public static void checkValue(byte[] value) {
    Objects.requireNonNull(value, "value");
    if (value.length > KeyValueStore.MAX_VALUE_BYTES) {
      throw new IllegalArgumentException(
          "Value of "
              + value.length
              + " bytes exceeds the limit of "
              + KeyValueStore.MAX_VALUE_BYTES
              + " bytes; store large data as a snapshot or split it");
    }
  }

  /** Checks a TTL: {@code null} allowed only when {@code nullable}; otherwise must be positive. */
  public static void checkTtl(Duration ttl, boolean nullable) {
    if (ttl == null) {
      if (!nullable) {
        throw new NullPointerException("ttl");
      }
      return;
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("TTL must be positive, got " + ttl);
    }
  }

  /** Expiry instant for a TTL relative to {@code nowMillis}; 0 for none. */
  public static long expiryMillis(long nowMillis, Duration ttl) {
    if (ttl == null) {
      return 0;
    }
    long millis = Math.max(1, ttl.toMillis());
    long at = nowMillis + millis;
    return at < nowMillis ? Long.MAX_VALUE : at;
  }

  public static void checkMaxRecords(int maxRecords) {
    if (maxRecords <= 0) {
      throw new IllegalArgumentException("maxRecords must be positive, got " + maxRecords);
    }
  }
}
