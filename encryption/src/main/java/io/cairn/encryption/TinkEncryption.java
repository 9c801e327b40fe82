package io.cairn.encryption;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeyStatus;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.aead.AesGcmKey;
import io.cairn.persistence.spi.Encryption;
import io.cairn.persistence.spi.KeyCheckStore;
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
 * <p><b>AES-256-GCM keys are per backend and counted.</b> Its 96-bit random nonces allow 2<sup>
 * 32</sup> messages per key (NIST SP 800-38D, 8.3). So that the count is exact although one keyset
 * may serve many backends, a backend's registry {@linkplain #attach attaches} the encryption to the
 * backend's key check record ({@link KeyCheckRecord}): every AES-256-GCM key of the keyset is then
 * used as HKDF-SHA256(key, the backend's random salt, {@value #DERIVE_LABEL} + key id), a Tink
 * {@code AesGcmKey} with the same id and parameters, so two backends never share an AES key; and
 * every message sealed under it is counted in blocks reserved durably in that record before they
 * are used ({@link MessageBudget}), refused at the limit. Until it is attached, an encryption whose
 * primary is AES-256-GCM refuses to seal. XChaCha20-Poly1305 and XAES-256-GCM keys (192-bit nonces)
 * are used as they are and not counted.
 *
 * <p>Thread-safe. Neither {@link #toString()} nor any exception shows key material, plaintext or
 * ciphertext.
 */
public final class TinkEncryption implements Encryption {
  /** Tink's output prefix: one version byte and a 4-byte key id. */
  static final int PREFIX_SIZE = 5;

  /** HKDF info of a backend's AES-256-GCM key: this label, then the 4-byte key id. */
  static final String DERIVE_LABEL = "cairn backend aes-256-gcm key v1 ";

  /** The most messages one AES-256-GCM key may seal in one backend: 2^32. */
  public static final long MAX_MESSAGES = 1L << 32;

  private static final byte TINK_PREFIX = 0x01;

  private final KeysetHandle keyset;
  private final long primaryKeyId;
  private final boolean primaryCounted;
  private final long messageLimit;
  // the keyset's primitive until attach(); then the backend's (derived AES keys)
  private volatile Aead aead;
  private volatile MessageBudget.Backend attached;
  // the primary's budget once attached, when the primary is AES-256-GCM; read on every seal
  private volatile MessageBudget primaryBudget;

  private TinkEncryption(KeysetHandle keyset, Aead aead, long messageLimit) {
    this.keyset = keyset;
    this.aead = aead;
    this.primaryKeyId = Integer.toUnsignedLong(keyset.getPrimary().getId());
    this.primaryCounted = keyset.getPrimary().getKey() instanceof AesGcmKey;
    this.messageLimit = messageLimit;
  }

  /**
   * @throws IllegalArgumentException when the keyset holds no usable AEAD primary key
   */
  public static TinkEncryption of(KeysetHandle keyset) {
    return of(keyset, MAX_MESSAGES);
  }

  /**
   * With a lower per-key message limit for AES-256-GCM keys ({@code encryption.message-limit}).
   *
   * @throws IllegalArgumentException when the keyset holds no usable AEAD primary key, or the limit
   *     is not in 2..2^32
   */
  public static TinkEncryption of(KeysetHandle keyset, long messageLimit) {
    if (messageLimit < 2 || messageLimit > MAX_MESSAGES) {
      throw new IllegalArgumentException(
          "The message limit must be between 2 and 2^32 (" + MAX_MESSAGES + "): " + messageLimit);
    }
    try {
      Keysets.registerTink();
      return new TinkEncryption(
          keyset, keyset.getPrimitive(RegistryConfiguration.get(), Aead.class), messageLimit);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "The keyset cannot encrypt: it needs an enabled AEAD primary key ("
              + e.getClass().getSimpleName()
              + ")",
          e);
    }
  }

  /**
   * An encryption attached to a record kept in this process's memory (a fresh salt; AES-256-GCM
   * messages counted there), for sealing outside a registry's backend: tools, tests, benchmarks.
   * What it seals under AES-256-GCM keys opens only through this instance (its derived keys die
   * with it).
   */
  public static TinkEncryption standalone(KeysetHandle keyset) {
    TinkEncryption e = of(keyset);
    new TinkEncryptionProvider().attach("standalone", e, KeyCheckStore.inMemory("memory"));
    return e;
  }

  /** The keyset's primary key id (unsigned 32-bit), which seals new data. */
  public long primaryKeyId() {
    return primaryKeyId;
  }

  /** The keyset this encryption uses. */
  public KeysetHandle keyset() {
    return keyset;
  }

  long messageLimit() {
    return messageLimit;
  }

  boolean isAttached() {
    return attached != null;
  }

  MessageBudget.Backend attachment() {
    return attached;
  }

  /**
   * Uses the backend's keys from now on: AES-256-GCM keys derived with {@code record}'s salt (those
   * it lists as not derived as they are), counted against {@code record}'s counts in {@code store}.
   * Called by {@link TinkEncryptionProvider#attach}, once per open.
   */
  synchronized void attach(
      String backend, KeyCheckRecord record, io.cairn.persistence.spi.KeyCheckStore store) {
    if (attached != null) {
      throw new IllegalStateException(
          "This encryption is already attached to backend '" + attached.name() + "'");
    }
    Aead backendAead;
    try {
      backendAead =
          DerivedKeys.forBackend(keyset, record)
              .getPrimitive(RegistryConfiguration.get(), Aead.class);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          "Cannot build backend '" + backend + "''s keys: " + e.getClass().getSimpleName(), e);
    }
    MessageBudget.Backend b = new MessageBudget.Backend(backend, store, messageLimit);
    this.aead = backendAead;
    this.attached = b;
    if (primaryCounted) {
      this.primaryBudget = b.budget(primaryKeyId, record);
    }
  }

  /** Seals without counting: the check constant of a new record, whose count is in it already. */
  byte[] sealUncounted(byte[] plaintext, byte[] associatedData) {
    try {
      return aead.encrypt(plaintext, associatedData);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          "Encryption with key " + primaryKeyId() + " failed: " + e.getClass().getSimpleName(), e);
    }
  }

  /** Seals {@code plaintext} bound to {@code associatedData} with the primary key. */
  @Override
  public byte[] seal(byte[] plaintext, byte[] associatedData) {
    MessageBudget budget = primaryBudget;
    if (budget != null) {
      budget.take(); // throws at the limit, naming the key and what to run
    } else if (primaryCounted) {
      throw notAttached();
    }
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
  public Optional<String> warning() {
    MessageBudget budget = primaryBudget;
    return budget == null ? Optional.empty() : budget.warning();
  }

  @Override
  public long primaryKeyMessages() {
    MessageBudget budget = primaryBudget;
    return budget == null ? -1 : budget.counted();
  }

  private IllegalStateException notAttached() {
    return new IllegalStateException(
        "Key "
            + primaryKeyId
            + " is an AES-256-GCM key: it seals only in a backend whose registry attached this"
            + " encryption to the backend's key check record (configure the backend's encryption"
            + " section), where its messages are counted against the 2^32 limit. For a hook made"
            + " by hand, use a key type without that limit (Algorithm.XCHACHA20_POLY1305).");
  }

  @Override
  public String toString() {
    return "TinkEncryption{primaryKey=" + primaryKeyId() + ", keys=" + keyset.size() + "}";
  }
}
