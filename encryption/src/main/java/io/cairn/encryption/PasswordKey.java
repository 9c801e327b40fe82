package io.cairn.encryption;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.aead.AesGcmKey;
import com.google.crypto.tink.aead.AesGcmParameters;
import com.google.crypto.tink.util.SecretBytes;
import io.cairn.persistence.PersistenceException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Properties;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * A master key derived from a password with Argon2id (RFC 9106, Bouncy Castle's implementation),
 * used to encrypt a keyset file. The salt and cost parameters are stored beside the keyset in a
 * small text file ({@code <keyset>.kdf}), so the same password gives the same key later and the
 * costs can be raised for new files without breaking old ones:
 *
 * <pre>
 * format=cairn-kdf-1
 * algorithm=argon2id
 * version=19
 * memory-kib=65536
 * iterations=3
 * parallelism=1
 * salt=&lt;16 random bytes, base64&gt;
 * </pre>
 *
 * The defaults (64 MiB, 3 passes, 1 lane) are RFC 9106's second recommended option. Nothing in the
 * file is secret. The derived key is an AES-256-GCM key used only for the keyset file.
 */
final class PasswordKey {
  static final int DEFAULT_MEMORY_KIB = 64 * 1024;
  static final int DEFAULT_ITERATIONS = 3;
  static final int DEFAULT_PARALLELISM = 1;

  private PasswordKey() {}

  /** New parameters with a fresh random salt. */
  static Properties newParameters(int memoryKib, int iterations) {
    byte[] salt = new byte[16];
    new SecureRandom().nextBytes(salt);
    Properties p = new Properties();
    p.setProperty("format", "cairn-kdf-1");
    p.setProperty("algorithm", "argon2id");
    p.setProperty("version", "19");
    p.setProperty("memory-kib", Integer.toString(memoryKib));
    p.setProperty("iterations", Integer.toString(iterations));
    p.setProperty("parallelism", Integer.toString(DEFAULT_PARALLELISM));
    p.setProperty("salt", Base64.getEncoder().encodeToString(salt));
    return p;
  }

  static String format(Properties p) {
    StringBuilder b = new StringBuilder();
    for (String key :
        new String[] {
          "format", "algorithm", "version", "memory-kib", "iterations", "parallelism", "salt"
        }) {
      b.append(key).append('=').append(p.getProperty(key)).append('\n');
    }
    return b.toString();
  }

  static Properties parse(Path file) {
    Properties p = new Properties();
    try {
      p.load(new StringReader(KeysetFiles.read(file)));
    } catch (IOException e) {
      throw new PersistenceException("Cannot read the key derivation file " + file, e);
    }
    if (!"cairn-kdf-1".equals(p.getProperty("format"))
        || !"argon2id".equals(p.getProperty("algorithm"))) {
      throw new PersistenceException(
          "The key derivation file "
              + file
              + " is not format cairn-kdf-1 with algorithm argon2id; it cannot be used");
    }
    return p;
  }

  /** Derives the master key; the password array is not kept (the caller clears it). */
  static Aead derive(char[] password, Properties p, Path parametersFile) {
    byte[] key = new byte[32];
    byte[] passwordBytes = null;
    try {
      Argon2Parameters parameters =
          new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
              .withVersion(Integer.parseInt(p.getProperty("version")))
              .withMemoryAsKB(Integer.parseInt(p.getProperty("memory-kib")))
              .withIterations(Integer.parseInt(p.getProperty("iterations")))
              .withParallelism(Integer.parseInt(p.getProperty("parallelism")))
              .withSalt(Base64.getDecoder().decode(p.getProperty("salt")))
              .build();
      Argon2BytesGenerator generator = new Argon2BytesGenerator();
      generator.init(parameters);
      passwordBytes = new String(password).getBytes(StandardCharsets.UTF_8);
      generator.generateBytes(passwordBytes, key);
      Keysets.registerTink();
      AesGcmKey aesKey =
          AesGcmKey.builder()
              .setParameters(
                  AesGcmParameters.builder()
                      .setKeySizeBytes(32)
                      .setIvSizeBytes(12)
                      .setTagSizeBytes(16)
                      .setVariant(AesGcmParameters.Variant.NO_PREFIX)
                      .build())
              .setKeyBytes(SecretBytes.copyFrom(key, InsecureSecretKeyAccess.get()))
              .build();
      return KeysetHandle.newBuilder()
          .addEntry(KeysetHandle.importKey(aesKey).withRandomId().makePrimary())
          .build()
          .getPrimitive(RegistryConfiguration.get(), Aead.class);
    } catch (NumberFormatException | NullPointerException e) {
      throw new PersistenceException(
          "The key derivation file " + parametersFile + " has a missing or malformed value");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Cannot build the password-derived key", e);
    } finally {
      Arrays.fill(key, (byte) 0);
      if (passwordBytes != null) {
        Arrays.fill(passwordBytes, (byte) 0);
      }
    }
  }
}
