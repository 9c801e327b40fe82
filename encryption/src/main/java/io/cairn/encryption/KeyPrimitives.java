package io.cairn.encryption;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeyStatus;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.aead.AesGcmKey;
import com.google.crypto.tink.aead.AesGcmParameters;
import com.google.crypto.tink.subtle.AesGcmJce;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * The AEAD primitives of one keyset (as given, or with a backend's derived keys): the keyset's Tink
 * primitive, and for each enabled AES-GCM key with Tink's 5-byte output prefix (Cairn's default key
 * type) that key's own Tink primitive ({@link AesGcmJce#create(AesGcmKey)}, the one Tink's registry
 * builds for it and the keyset's primitive delegates to), found by the key id in the sealed bytes'
 * prefix.
 *
 * <p>Why: the keyset's primitive finds the key for every open through a map keyed by a fresh copy
 * of the prefix ({@code PrefixMap}), an iterator and a monitoring call; an array of a handful of
 * key ids does the same for a few compares (measured: benchmarks/RESULTS-encryption.md, 2026-12-06
 * 11:40). Tink still frames (prefix, random 96-bit nonce, ciphertext, tag), checks the prefix and
 * authenticates. Whatever the direct primitive does not open goes to the keyset's primitive, which
 * also tries the keyset's keys without a prefix, so what opens and what fails is exactly what the
 * keyset's primitive alone gives.
 */
final class KeyPrimitives {
  private final Aead keyset;
  private final Aead primary;
  private final int[] ids;
  private final Aead[] direct;

  private KeyPrimitives(Aead keyset, Aead primary, int[] ids, Aead[] direct) {
    this.keyset = keyset;
    this.primary = primary;
    this.ids = ids;
    this.direct = direct;
  }

  /**
   * @throws GeneralSecurityException when Tink cannot build the keyset's primitive
   */
  static KeyPrimitives of(KeysetHandle handle) throws GeneralSecurityException {
    Aead all = handle.getPrimitive(RegistryConfiguration.get(), Aead.class);
    Aead primary = all;
    int[] ids = new int[handle.size()];
    Aead[] direct = new Aead[handle.size()];
    int n = 0;
    for (int i = 0; i < handle.size(); i++) {
      KeysetHandle.Entry entry = handle.getAt(i);
      if (entry.getStatus() == KeyStatus.ENABLED
          && entry.getKey() instanceof AesGcmKey key
          && key.getParameters().getVariant() == AesGcmParameters.Variant.TINK) {
        // built for this key by the keyset's primitive above already, so it cannot fail here
        Aead one = AesGcmJce.create(key);
        ids[n] = entry.getId();
        direct[n++] = one;
        if (entry.isPrimary()) {
          primary = one; // the keyset's primitive seals with exactly this
        }
      }
    }
    return new KeyPrimitives(all, primary, Arrays.copyOf(ids, n), Arrays.copyOf(direct, n));
  }

  /** Seals with the primary key, as the keyset's primitive does. */
  byte[] encrypt(byte[] plaintext, byte[] associatedData) throws GeneralSecurityException {
    return primary.encrypt(plaintext, associatedData);
  }

  /** Opens as the keyset's primitive does. */
  byte[] decrypt(byte[] sealed, byte[] associatedData) throws GeneralSecurityException {
    Aead one = direct(sealed);
    if (one != null) {
      try {
        return one.decrypt(sealed, associatedData);
      } catch (GeneralSecurityException e) {
        // the keyset's primitive decides (it also tries the keys without a prefix)
      }
    }
    return keyset.decrypt(sealed, associatedData);
  }

  /** The direct primitive of the key {@code sealed}'s prefix names, or null. */
  private Aead direct(byte[] sealed) {
    long keyId = TinkEncryption.keyIdOf(sealed);
    if (keyId < 0) {
      return null;
    }
    int id = (int) keyId;
    for (int i = 0; i < ids.length; i++) {
      if (ids[i] == id) {
        return direct[i];
      }
    }
    return null;
  }
}
