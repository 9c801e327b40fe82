package io.cairn.encryption;

import io.cairn.persistence.spi.Encryption;
import io.cairn.persistence.spi.EncryptionProvider;
import io.cairn.persistence.spi.Settings;

/**
 * Cairn's {@link EncryptionProvider}: a backend's {@code encryption} section (see {@link
 * EncryptionSettings}) becomes a {@link TinkEncryption} over the keyset its key source holds.
 * Registered in {@code META-INF/services}; public only for {@link java.util.ServiceLoader}.
 */
public final class TinkEncryptionProvider implements EncryptionProvider {
  /** For {@link java.util.ServiceLoader}. */
  public TinkEncryptionProvider() {}

  @Override
  public void validate(Settings section) {
    EncryptionSettings.read(section);
  }

  @Override
  public Encryption open(String backend, Settings section) {
    return EncryptionSettings.read(section)
        .<Encryption>map(settings -> TinkEncryption.of(settings.source().load()))
        .orElse(Encryption.NONE);
  }

  @Override
  public byte[] newKeyCheck(String backend, Encryption encryption) {
    return KeyCheck.create(tink(encryption), backend);
  }

  @Override
  public void verifyKeyCheck(
      String backend, Encryption encryption, byte[] record, String location) {
    KeyCheck.verify(tink(encryption), backend, record, location);
  }

  private static TinkEncryption tink(Encryption encryption) {
    if (encryption instanceof TinkEncryption t) {
      return t;
    }
    throw new IllegalArgumentException(
        "cairn-encryption checks keys of its own TinkEncryption only, not " + encryption);
  }
}
