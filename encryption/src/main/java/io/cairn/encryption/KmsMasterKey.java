package io.cairn.encryption;

import com.google.crypto.tink.Aead;
import java.security.GeneralSecurityException;

/**
 * The hook for a key management service: a master key that never leaves the KMS encrypts the keyset
 * file. Registered through {@code META-INF/services/io.cairn.encryption.KmsMasterKey}; the first
 * provider whose {@link #supports} accepts the configured {@code kms-uri} is used. Tink's own KMS
 * clients (e.g. {@code tink-awskms}, {@code tink-gcpkms}) give such an {@link Aead}: a provider is
 * a few lines around one of them. Implementations must be thread-safe.
 */
public interface KmsMasterKey {
  /** Whether this provider handles {@code uri}, e.g. {@code aws-kms://arn:aws:kms:...}. */
  boolean supports(String uri);

  /**
   * The AEAD of the KMS key named by {@code uri}; its calls go to the KMS.
   *
   * @throws GeneralSecurityException when the key cannot be reached or used
   */
  Aead aead(String uri) throws GeneralSecurityException;
}
