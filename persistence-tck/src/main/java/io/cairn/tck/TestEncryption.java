package io.cairn.tck;

import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.spi.Encryption;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/**
 * An {@link Encryption} for tests: AES-128-GCM from {@code javax.crypto} with a random 96-bit nonce
 * per seal ({@code key index | nonce | ciphertext | tag}), plus hooks a contract suite uses to see
 * what a backend seals, to put a ciphertext where the engine would return another place's bytes,
 * and to rotate and retire keys ({@link #rotate}, {@link #retireOlderKeys}) for {@link
 * io.cairn.persistence.StorageBackend#reseal}. NOT for production (no key management, no per-key
 * message limit): {@code cairn-encryption} is the real one.
 *
 * <p>Thread-safe.
 */
public final class TestEncryption implements Encryption {
  private static final int NONCE = 12;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final List<SecretKey> keys = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile int retiredBelow; // keys with a lower index no longer open anything
  private final AtomicLong seals = new AtomicLong();
  private final AtomicLong opens = new AtomicLong();
  private final Map<ByteBuffer, byte[]> lastSealed = new ConcurrentHashMap<>();
  private final Map<ByteBuffer, byte[]> substitutes = new ConcurrentHashMap<>();
  private final List<byte[]> plaintexts = java.util.Collections.synchronizedList(new ArrayList<>());

  public TestEncryption() {
    try {
      KeyGenerator g = KeyGenerator.getInstance("AES");
      g.init(128);
      keys.add(g.generateKey());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES is not available in this JVM", e);
    }
  }

  @Override
  public byte[] seal(byte[] plaintext, byte[] associatedData) {
    byte[] nonce = new byte[NONCE];
    RANDOM.nextBytes(nonce);
    int primary = keys.size() - 1;
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, keys.get(primary), new GCMParameterSpec(128, nonce));
      c.updateAAD(associatedData);
      byte[] ct = c.doFinal(plaintext);
      byte[] out = new byte[1 + NONCE + ct.length];
      out[0] = (byte) primary;
      System.arraycopy(nonce, 0, out, 1, NONCE);
      System.arraycopy(ct, 0, out, 1 + NONCE, ct.length);
      seals.incrementAndGet();
      plaintexts.add(plaintext.clone());
      lastSealed.put(ByteBuffer.wrap(associatedData.clone()), out.clone());
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM seal failed", e);
    }
  }

  @Override
  public byte[] open(byte[] sealed, byte[] associatedData) {
    opens.incrementAndGet();
    byte[] substitute = substitutes.remove(ByteBuffer.wrap(associatedData));
    byte[] in = substitute != null ? substitute : sealed;
    if (in.length < 1 + NONCE + 16) {
      throw new PersistenceException("sealed data too short (" + in.length + " bytes)");
    }
    int index = in[0] & 0xFF;
    if (index >= keys.size() || index < retiredBelow) {
      throw new PersistenceException("sealed with test key " + index + ", which is retired");
    }
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, keys.get(index), new GCMParameterSpec(128, in, 1, NONCE));
      c.updateAAD(associatedData);
      return c.doFinal(in, 1 + NONCE, in.length - 1 - NONCE);
    } catch (GeneralSecurityException e) {
      // no plaintext and no key bytes in the message
      throw new PersistenceException("AES-GCM authentication failed (test key)", e);
    }
  }

  @Override
  public boolean sealedWithPrimary(byte[] sealed) {
    return sealed.length > 0 && (sealed[0] & 0xFF) == keys.size() - 1;
  }

  /** Adds a new key and makes it the one {@link #seal} uses; older keys still open. */
  public void rotate() {
    try {
      KeyGenerator g = KeyGenerator.getInstance("AES");
      g.init(128);
      keys.add(g.generateKey());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES is not available in this JVM", e);
    }
  }

  /** From now on, bytes sealed with any key but the current one fail to open. */
  public void retireOlderKeys() {
    retiredBelow = keys.size() - 1;
  }

  /** How many times {@link #seal} ran. */
  public long seals() {
    return seals.get();
  }

  /** How many times {@link #open} ran. */
  public long opens() {
    return opens.get();
  }

  /** Whether {@code plaintext} was ever passed to {@link #seal} (as a whole). */
  public boolean sealed(byte[] plaintext) {
    synchronized (plaintexts) {
      return plaintexts.stream().anyMatch(p -> Arrays.equals(p, plaintext));
    }
  }

  /** The last ciphertext sealed with {@code associatedData}, or null. */
  public byte[] lastSealedFor(byte[] associatedData) {
    byte[] c = lastSealed.get(ByteBuffer.wrap(associatedData));
    return c == null ? null : c.clone();
  }

  /**
   * The next {@link #open} with {@code associatedData} gets {@code ciphertext} instead of the bytes
   * the backend read: as if the engine held another place's ciphertext (moved or copied) there.
   */
  public void substituteOnNextOpen(byte[] associatedData, byte[] ciphertext) {
    substitutes.put(ByteBuffer.wrap(associatedData.clone()), ciphertext.clone());
  }

  @Override
  public String toString() {
    return "TestEncryption[AES-128-GCM, test only]";
  }
}
