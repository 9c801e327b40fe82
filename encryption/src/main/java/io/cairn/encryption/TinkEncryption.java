package io.cairn.encryption;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeyStatus;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import io.cairn.persistence.spi.Encryption;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.UnaryOperator;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@link Encryption} over a Tink AEAD keyset. New data is sealed with the keyset's primary key;
 * data sealed with any other enabled key of the keyset still opens, which is what makes rotation
 * work without rewriting anything at once.
 *
 * <p><b>Sealed format</b> (Tink's): one byte {@code 0x01}, the 4-byte big-endian key id, then the
 * algorithm's nonce, ciphertext and tag. The associated data the caller gives is authenticated but
 * not stored: bytes moved to another store, key or offset carry different associated data there and
 * fail to open.
 *
 * <p>Thread-safe; the primitive is immutable. Neither {@link #toString()} nor any exception shows
 * key material, plaintext or ciphertext.
 */
public final class TinkEncryption implements Encryption {
  /** Tink's output prefix: one version byte and a 4-byte key id. */
  static final int PREFIX_SIZE = 5;

  private static final byte TINK_PREFIX = 0x01;

  private final KeysetHandle keyset;
  private final Aead aead;
  private final long primaryKeyId;

  private TinkEncryption(KeysetHandle keyset, Aead aead) {
    this.keyset = keyset;
    this.aead = aead;
    this.primaryKeyId = Integer.toUnsignedLong(keyset.getPrimary().getId());
  }

  /**
   * @throws IllegalArgumentException when the keyset holds no usable AEAD primary key
   */
  public static TinkEncryption of(KeysetHandle keyset) {
    try {
      Keysets.registerTink();
      return new TinkEncryption(
          keyset, keyset.getPrimitive(RegistryConfiguration.get(), Aead.class));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "The keyset cannot encrypt: it needs an enabled AEAD primary key ("
              + e.getClass().getSimpleName()
              + ")",
          e);
    }
  }

  /** The keyset's primary key id (unsigned 32-bit), which seals new data. */
  public long primaryKeyId() {
    return primaryKeyId;
  }

  /** The keyset this encryption uses. */
  public KeysetHandle keyset() {
    return keyset;
  }

  /** Seals {@code plaintext} bound to {@code associatedData} with the primary key. */
  @Override
  public byte[] seal(byte[] plaintext, byte[] associatedData) {
    try {
      return aead.encrypt(plaintext, associatedData);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          "Encryption with key " + primaryKeyId() + " failed: " + e.getClass().getSimpleName(), e);
    }
  }

  /**
   * Opens bytes sealed by {@link #seal(byte[], byte[])} with the same associated data.
   *
   * @throws DecryptionFailedException naming the key id and the reason; never returns wrong
   *     plaintext
   */
  @Override
  public byte[] open(byte[] sealed, byte[] associatedData) {
    try {
      return aead.decrypt(sealed, associatedData);
    } catch (GeneralSecurityException e) {
      throw explain(sealed);
    }
  }

  /**
   * Whether {@code sealed} names the primary key in its prefix (read, not opened: whether the bytes
   * are intact is checked when they are opened to be re-sealed).
   */
  @Override
  public boolean sealedWithPrimary(byte[] sealed) {
    return keyIdOf(sealed) == primaryKeyId();
  }

  /**
   * HMAC-SHA256 keyed with {@code prfKey} (at least 32 bytes): the keyed hash of {@code
   * hashed-key-namespaces}. Independent of the keyset, so rotating the AEAD primary changes nothing
   * of it.
   */
  @Override
  public Optional<UnaryOperator<byte[]>> keyedHash(byte[] prfKey) {
    if (prfKey == null || prfKey.length < 32) {
      throw new IllegalArgumentException("The key-hash key must be at least 32 bytes");
    }
    SecretKeySpec key = new SecretKeySpec(prfKey.clone(), "HmacSHA256");
    ThreadLocal<Mac> macs =
        ThreadLocal.withInitial(
            () -> {
              try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(key);
                return mac;
              } catch (GeneralSecurityException e) {
                throw new IllegalStateException(
                    "HmacSHA256 is not available: " + e.getClass().getSimpleName(), e);
              }
            });
    return Optional.of(in -> macs.get().doFinal(in));
  }

  /** The key id named by sealed bytes, or -1 when they are not in the sealed format. */
  public static long keyIdOf(byte[] sealed) {
    if (sealed.length < PREFIX_SIZE || sealed[0] != TINK_PREFIX) {
      return -1;
    }
    int id =
        ((sealed[1] & 0xff) << 24)
            | ((sealed[2] & 0xff) << 16)
            | ((sealed[3] & 0xff) << 8)
            | (sealed[4] & 0xff);
    return Integer.toUnsignedLong(id);
  }

  private DecryptionFailedException explain(byte[] sealed) {
    long keyId = keyIdOf(sealed);
    if (keyId < 0) {
      return new DecryptionFailedException(
          DecryptionFailedException.Reason.MALFORMED,
          -1,
          "The bytes are not sealed data (" + sealed.length + " bytes without a key id prefix)");
    }
    for (int i = 0; i < keyset.size(); i++) {
      KeysetHandle.Entry entry = keyset.getAt(i);
      if (Integer.toUnsignedLong(entry.getId()) != keyId) {
        continue;
      }
      if (entry.getStatus() != KeyStatus.ENABLED) {
        return new DecryptionFailedException(
            DecryptionFailedException.Reason.REVOKED_KEY,
            keyId,
            "The data is sealed with key "
                + keyId
                + ", which is revoked in the keyset: enable it again (Keysets.enable), re-encrypt"
                + " everything under the primary key (io.cairn.encryption.Rekey.run, or"
                + " PersistenceRegistry.reseal), then revoke it again");
      }
      return new DecryptionFailedException(
          DecryptionFailedException.Reason.AUTHENTICATION_FAILED,
          keyId,
          "Authentication failed under key "
              + keyId
              + ": the bytes were altered, or were moved here from another store, key or offset");
    }
    return new DecryptionFailedException(
        DecryptionFailedException.Reason.UNKNOWN_KEY,
        keyId,
        "The data is sealed with key "
            + keyId
            + ", which is not in the keyset (its keys: "
            + Arrays.toString(Keysets.keyIds(keyset))
            + "): is this the right keyset?");
  }

  @Override
  public String toString() {
    return "TinkEncryption{primaryKey=" + primaryKeyId() + ", keys=" + keyset.size() + "}";
  }
}
