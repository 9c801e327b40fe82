package io.cairn.encryption;

import io.cairn.persistence.PersistenceException;

/**
 * Sealed bytes could not be opened. Never carries plaintext, ciphertext or key material: only the
 * key id the bytes name and why they failed. The store that read them wraps this in a {@link
 * io.cairn.persistence.StoreCorruptedException} naming the store and the key or offset.
 */
public final class DecryptionFailedException extends PersistenceException {
  private static final long serialVersionUID = 1L;

  /** Why the bytes could not be opened. */
  public enum Reason {
    /** The key id in the bytes is not in the keyset: a wrong or incomplete keyset. */
    UNKNOWN_KEY,
    /** The key id is in the keyset but revoked (disabled). */
    REVOKED_KEY,
    /** The key is present but authentication failed: altered bytes, or bytes moved elsewhere. */
    AUTHENTICATION_FAILED,
    /** Too short or not in Cairn's sealed format at all. */
    MALFORMED
  }

  private final Reason reason;
  private final long keyId;

  DecryptionFailedException(Reason reason, long keyId, String message) {
    super(message);
    this.reason = reason;
    this.keyId = keyId;
  }

  public Reason reason() {
    return reason;
  }

  /** The key id the sealed bytes name (unsigned 32-bit), or -1 when they name none. */
  public long keyId() {
    return keyId;
  }
}
