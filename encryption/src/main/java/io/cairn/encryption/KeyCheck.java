package io.cairn.encryption;

import io.cairn.persistence.PersistenceException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The key check record: a known constant sealed when a backend is first encrypted and opened at
 * every later open, so a wrong or missing keyset is named at open instead of at the first read. Its
 * associated data names the backend, so one backend's record does not pass for another's.
 */
public final class KeyCheck {
  static final byte[] CONSTANT =
      "cairn key check record, version 1".getBytes(StandardCharsets.US_ASCII);

  private KeyCheck() {}

  /** A new record sealed with the primary key. */
  public static byte[] create(TinkEncryption encryption, String backend) {
    return encryption.seal(CONSTANT, associatedData(backend));
  }

  /**
   * The constant sealed under the primary key as a backend with {@code record} uses it (derived
   * AES-256-GCM keys), not counted: the record counts it already. For a new record.
   */
  static byte[] createFor(TinkEncryption encryption, KeyCheckRecord record, String backend) {
    try {
      com.google.crypto.tink.Aead aead =
          DerivedKeys.forBackend(encryption.keyset(), record)
              .getPrimitive(
                  com.google.crypto.tink.RegistryConfiguration.get(),
                  com.google.crypto.tink.Aead.class);
      return aead.encrypt(CONSTANT, associatedData(backend));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(
          "Cannot seal backend '"
              + backend
              + "''s key check record: "
              + e.getClass().getSimpleName(),
          e);
    }
  }

  /**
   * @throws PersistenceException naming the backend, where the record is, and the key id it needs,
   *     when {@code encryption} cannot open {@code record}
   */
  public static void verify(
      TinkEncryption encryption, String backend, byte[] record, String location) {
    byte[] opened;
    try {
      opened = encryption.open(record, associatedData(backend));
    } catch (DecryptionFailedException e) {
      throw new PersistenceException(
          "Backend '"
              + backend
              + "': the configured keyset cannot open the key check record ("
              + location
              + "): "
              + e.getMessage()
              + (e.reason() == DecryptionFailedException.Reason.REVOKED_KEY
                  ? ""
                  : ". Configure the keyset this backend was encrypted with."),
          e);
    }
    if (!MessageDigest.isEqual(opened, CONSTANT)) {
      throw new PersistenceException(
          "Backend '" + backend + "': the key check record (" + location + ") is not Cairn's");
    }
  }

  static byte[] associatedData(String backend) {
    return ("cairn/key-check/" + backend).getBytes(StandardCharsets.UTF_8);
  }
}
