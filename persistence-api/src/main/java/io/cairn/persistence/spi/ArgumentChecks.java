package io.cairn.persistence.spi;

import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StoreKind;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * Argument checks shared by every backend, so that every backend rejects the same bad input with
 * the same message before touching stored data.
 */
public final class ArgumentChecks {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  private ArgumentChecks() {}

  /** The word every message uses for a store of {@code kind}: one wording across backends. */
  public static String kindName(StoreKind kind) {
    return switch (kind) {
      case KEY_VALUE -> "key-value namespace";
      case LOG -> "log";
      case SNAPSHOT -> "snapshot set";
    };
  }

  /** {@link #check(String, String)} with the wording of {@link #kindName(StoreKind)}. */
  public static String check(StoreKind kind, String name) {
    return check(kindName(kind), name);
  }

  /**
   * Returns {@code name} if it is a valid store name, else throws IllegalArgumentException (also
   * for {@code null}: a store name is an argument out of range, not a programming slip deep
   * inside). Prefer {@link #check(StoreKind, String)}, which words {@code kind} like every other
   * message.
   */
  public static String check(String kind, String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "Invalid "
              + kind
              + " name "
              + (name == null ? "null" : "'" + name + "'")
              + ": use 1-128 characters from [A-Za-z0-9._-], starting with a letter or digit");
    }
    return name;
  }

  /** Throws the one Cairn message for a {@code null} argument {@code what}. */
  public static <T> T checkNotNull(T value, String what) {
    if (value == null) {
      throw new NullPointerException(what + " must not be null; nothing was written or read");
    }
    return value;
  }

  public static void checkKey(byte[] key) {
    checkNotNull(key, "key");
    if (key.length == 0 || key.length > KeyValueStore.MAX_KEY_BYTES) {
      throw new IllegalArgumentException(
          "Key length "
              + key.length
              + " is outside 1.."
              + KeyValueStore.MAX_KEY_BYTES
              + " bytes; nothing was written");
    }
  }

  /** Checks a key-value value: not null, at most {@link KeyValueStore#MAX_VALUE_BYTES}. */
  public static void checkValue(byte[] value) {
    checkBytes(value, "value");
  }

  /** Checks a log payload: not null, at most {@link KeyValueStore#MAX_VALUE_BYTES}. */
  public static void checkPayload(byte[] payload) {
    checkBytes(payload, "payload");
  }

  private static void checkBytes(byte[] value, String what) {
    checkNotNull(value, what);
    if (value.length > KeyValueStore.MAX_VALUE_BYTES) {
      throw new IllegalArgumentException(
          capitalize(what)
              + " of "
              + value.length
              + " bytes exceeds the limit of "
              + KeyValueStore.MAX_VALUE_BYTES
              + " bytes; nothing was written. Store large data as a snapshot or split it");
    }
  }

  private static String capitalize(String s) {
    return Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  /**
   * Checks a TTL by the one rule of {@link KeyValueStore}: {@code null} means "no expiry" (every
   * write accepts it, on the store and in a transaction alike); otherwise the TTL must be positive
   * and at most {@link KeyValueStore#MAX_TTL} (so the expiry instant in milliseconds cannot
   * overflow).
   */
  public static void checkTtl(Duration ttl) {
    if (ttl == null) {
      return;
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException(
          "TTL must be positive, got " + ttl + "; nothing was written");
    }
    if (ttl.compareTo(KeyValueStore.MAX_TTL) > 0) {
      throw new IllegalArgumentException(
          "TTL "
              + ttl
              + " is longer than the largest supported, "
              + KeyValueStore.MAX_TTL.toDays()
              + " days; nothing was written. Write without a TTL for an entry that never expires");
    }
  }

  /**
   * The same as {@link #checkTtl(Duration)}: {@code nullable} is ignored, since a {@code null} TTL
   * means "no expiry" everywhere. Kept for backends not yet moved to the one-argument form; prefer
   * that.
   */
  public static void checkTtl(Duration ttl, boolean nullable) {
    checkTtl(ttl);
  }

  /**
   * Expiry instant for a TTL relative to {@code nowMillis}; 0 for none. Saturates, never throws.
   */
  public static long expiryMillis(long nowMillis, Duration ttl) {
    if (ttl == null) {
      return 0;
    }
    long millis;
    try {
      millis = Math.max(1, ttl.toMillis());
    } catch (ArithmeticException tooLong) {
      return Long.MAX_VALUE; // checkTtl refuses such TTLs; saturate rather than throw here
    }
    long at = nowMillis + millis;
    return at < nowMillis ? Long.MAX_VALUE : at;
  }

  public static void checkMaxRecords(int maxRecords) {
    if (maxRecords <= 0) {
      throw new IllegalArgumentException("maxRecords must be positive, got " + maxRecords);
    }
  }

  /** Checks a log offset argument {@code what} (e.g. {@code fromOffset}): must be >= 0. */
  public static void checkOffset(String what, long offset) {
    if (offset < 0) {
      throw new IllegalArgumentException(
          what + " must be >= 0 (log offsets start at 0), got " + offset + "; nothing was done");
    }
  }

  /** Checks an expected version of compare-and-set/-delete: 0 (absent) or a stored version. */
  public static void checkExpectedVersion(long expectedVersion) {
    if (expectedVersion < 0) {
      throw new IllegalArgumentException(
          "expectedVersion must be 0 (absent) or a stored version, got "
              + expectedVersion
              + "; nothing was written");
    }
  }

  /** Checks a snapshot version: must be >= 0. */
  public static void checkSnapshotVersion(long version) {
    if (version < 0) {
      throw new IllegalArgumentException("Snapshot version must be >= 0, got " + version);
    }
  }
}
