package io.cairn.encryption;

import com.google.crypto.tink.KeyStatus;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.aead.AeadConfig;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;

/**
 * Making and changing keysets: a new keyset, rotation (a new primary key), revocation. Keysets are
 * immutable; each change returns a new one for the caller to store through its {@link KeySource}.
 * Thread-safe.
 */
public final class Keysets {
  private static volatile boolean registered;

  private Keysets() {}

  /** Registers Tink's AEAD key types once per JVM. */
  static void registerTink() {
    if (!registered) {
      synchronized (Keysets.class) {
        if (!registered) {
          try {
            AeadConfig.register();
          } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Tink's AEAD key types cannot be registered", e);
          }
          registered = true;
        }
      }
    }
  }

  /** A keyset with one new random key of the default algorithm ({@link Algorithm#DEFAULT}). */
  public static KeysetHandle generate() {
    return generate(Algorithm.DEFAULT);
  }

  /** A keyset with one new random key of {@code algorithm}, primary. */
  public static KeysetHandle generate(Algorithm algorithm) {
    registerTink();
    try {
      return KeysetHandle.newBuilder()
          .addEntry(
              KeysetHandle.generateEntryFromParameters(algorithm.parameters())
                  .withRandomId()
                  .makePrimary())
          .build();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Cannot generate a " + algorithm.configName() + " key", e);
    }
  }

  /**
   * {@code keyset} plus a new random key of the default algorithm ({@link Algorithm#DEFAULT}),
   * which becomes primary. Keys of other algorithms stay and still open what they sealed.
   */
  public static KeysetHandle rotate(KeysetHandle keyset) {
    return rotate(keyset, Algorithm.DEFAULT);
  }

  /**
   * {@code keyset} plus a new random key of {@code algorithm}, which becomes primary: new data is
   * sealed with it at once, data sealed with the older keys still opens.
   */
  public static KeysetHandle rotate(KeysetHandle keyset, Algorithm algorithm) {
    registerTink();
    try {
      return KeysetHandle.newBuilder(keyset)
          .addEntry(
              KeysetHandle.generateEntryFromParameters(algorithm.parameters())
                  .withRandomId()
                  .makePrimary())
          .build();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Cannot add a " + algorithm.configName() + " key", e);
    }
  }

  /**
   * {@code keyset} with key {@code keyId} disabled: data sealed with it no longer opens, and says
   * so naming the key.
   *
   * @throws IllegalArgumentException when the key is not in the keyset or is the primary
   */
  public static KeysetHandle revoke(KeysetHandle keyset, long keyId) {
    return withStatus(keyset, keyId, KeyStatus.DISABLED);
  }

  /** {@code keyset} with a revoked key {@code keyId} enabled again. */
  public static KeysetHandle enable(KeysetHandle keyset, long keyId) {
    return withStatus(keyset, keyId, KeyStatus.ENABLED);
  }

  private static KeysetHandle withStatus(KeysetHandle keyset, long keyId, KeyStatus status) {
    KeysetHandle.Builder builder = KeysetHandle.newBuilder(keyset);
    for (int i = 0; i < builder.size(); i++) {
      KeysetHandle.Builder.Entry entry = builder.getAt(i);
      if (Integer.toUnsignedLong(keyset.getAt(i).getId()) == keyId) {
        if (entry.isPrimary() && status != KeyStatus.ENABLED) {
          throw new IllegalArgumentException(
              "Key " + keyId + " is the primary key: rotate first (Keysets.rotate)");
        }
        entry.setStatus(status);
        try {
          return builder.build();
        } catch (GeneralSecurityException e) {
          throw new IllegalStateException("Cannot change the status of key " + keyId, e);
        }
      }
    }
    throw new IllegalArgumentException(
        "Key " + keyId + " is not in the keyset; its keys: " + describe(keyset));
  }

  /** Key ids of {@code keyset}, unsigned, in keyset order. */
  public static long[] keyIds(KeysetHandle keyset) {
    long[] ids = new long[keyset.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = Integer.toUnsignedLong(keyset.getAt(i).getId());
    }
    return ids;
  }

  /** One line per key, e.g. {@code 3512771 enabled primary}: ids and states, never material. */
  public static List<String> describe(KeysetHandle keyset) {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < keyset.size(); i++) {
      KeysetHandle.Entry e = keyset.getAt(i);
      lines.add(
          Integer.toUnsignedLong(e.getId())
              + " "
              + e.getStatus().toString().toLowerCase(java.util.Locale.ROOT)
              + (e.isPrimary() ? " primary" : ""));
    }
    return lines;
  }
}
