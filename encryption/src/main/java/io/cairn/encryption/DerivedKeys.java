package io.cairn.encryption;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.aead.AesGcmKey;
import com.google.crypto.tink.subtle.Hkdf;
import com.google.crypto.tink.util.SecretBytes;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * A backend's view of a keyset: each AES-256-GCM key replaced by one derived for the backend (see
 * {@link TinkEncryption}), with the same id, parameters (so Tink's output prefix and key lookup are
 * unchanged), status and primary flag; every other key as it is.
 */
final class DerivedKeys {
  private DerivedKeys() {}

  static KeysetHandle forBackend(KeysetHandle keyset, KeyCheckRecord record)
      throws GeneralSecurityException {
    byte[] salt = record.salt();
    KeysetHandle.Builder builder = KeysetHandle.newBuilder();
    for (int i = 0; i < keyset.size(); i++) {
      KeysetHandle.Entry entry = keyset.getAt(i);
      com.google.crypto.tink.Key key = entry.getKey();
      long id = Integer.toUnsignedLong(entry.getId());
      if (key instanceof AesGcmKey aes && record.derived(id)) {
        key = derive(aes, entry.getId(), salt);
      }
      KeysetHandle.Builder.Entry e =
          KeysetHandle.importKey(key).withFixedId(entry.getId()).setStatus(entry.getStatus());
      if (entry.isPrimary()) {
        e.makePrimary();
      }
      builder.addEntry(e);
    }
    return builder.build();
  }

  static AesGcmKey derive(AesGcmKey key, int id, byte[] salt) throws GeneralSecurityException {
    byte[] raw = key.getKeyBytes().toByteArray(InsecureSecretKeyAccess.get());
    byte[] label = TinkEncryption.DERIVE_LABEL.getBytes(StandardCharsets.US_ASCII);
    byte[] info = ByteBuffer.allocate(label.length + 4).put(label).putInt(id).array();
    byte[] derived = Hkdf.computeHkdf("HMACSHA256", raw, salt, info, raw.length);
    try {
      return AesGcmKey.builder()
          .setParameters(key.getParameters())
          .setKeyBytes(SecretBytes.copyFrom(derived, InsecureSecretKeyAccess.get()))
          .setIdRequirement(key.getIdRequirementOrNull())
          .build();
    } finally {
      Arrays.fill(raw, (byte) 0);
      Arrays.fill(derived, (byte) 0);
    }
  }
}
