package io.cairn.tck;

import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.spi.Encryption;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * An {@link Encryption} for test fixtures: AES-128-GCM with one fixed key ({@code nonce |
 * ciphertext | tag}), so data sealed once (e.g. an encrypted file of an older on-disk format, kept
 * under a module's {@code src/test/resources/fixtures/}) opens in any later run. The format and the
 * key are fixed: fixtures written with it depend on both. Thread-safe. NOT for production (the key
 * is in this source): {@code cairn-encryption} is the real one; {@link TestEncryption} is the hook
 * with random, rotatable keys.
 */
public final class FixedKeyEncryption implements Encryption {
  /** The key, in hex. */
  public static final String KEY = "000102030405060708090a0b0c0d0e0f";

  private static final int NONCE = 12;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SecretKeySpec key = new SecretKeySpec(HexFormat.of().parseHex(KEY), "AES");
  private final AtomicLong seals = new AtomicLong();

  /** Seals so far. */
  public long seals() {
    return seals.get();
  }

  @Override
  public byte[] seal(byte[] plaintext, byte[] associatedData) {
    byte[] nonce = new byte[NONCE];
    RANDOM.nextBytes(nonce);
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
      c.updateAAD(associatedData);
      byte[] ct = c.doFinal(plaintext);
      byte[] out = Arrays.copyOf(nonce, NONCE + ct.length);
      System.arraycopy(ct, 0, out, NONCE, ct.length);
      seals.incrementAndGet();
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM seal failed", e);
    }
  }

  @Override
  public byte[] open(byte[] sealed, byte[] associatedData) {
    if (sealed.length < NONCE + 16) {
      throw new PersistenceException("sealed data too short (" + sealed.length + " bytes)");
    }
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, Arrays.copyOf(sealed, NONCE)));
      c.updateAAD(associatedData);
      return c.doFinal(sealed, NONCE, sealed.length - NONCE);
    } catch (GeneralSecurityException e) {
      throw new PersistenceException(
          "sealed data fails its tag under the fixture key (wrong key or associated data)", e);
    }
  }
}
