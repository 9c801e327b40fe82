package io.cairn.encryption;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import io.cairn.persistence.PersistenceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.function.Supplier;

/** The key sources Cairn offers; see {@link KeySource}. */
public final class KeySources {
  private KeySources() {}

  /**
   * A keyset in clear in a Tink JSON file. Simple, and as safe as the file's permissions: keep it
   * 0600, outside the data directory and its backups; prefer {@link #password} or {@link #kms}.
   */
  public static KeySource keysetFile(Path file) {
    return new KeySource() {
      @Override
      public KeysetHandle load() {
        return KeysetFiles.readClear(file);
      }

      @Override
      public void store(KeysetHandle keyset) {
        KeysetFiles.writeClear(file, keyset);
      }

      @Override
      public String describe() {
        return "keyset file " + file;
      }

      @Override
      public String toString() {
        return describe();
      }
    };
  }

  /** A keyset in clear (Tink JSON) in an environment variable. Read-only. */
  public static KeySource environment(String variable) {
    return environment(variable, System.getenv());
  }

  static KeySource environment(String variable, Map<String, String> env) {
    return new KeySource() {
      @Override
      public KeysetHandle load() {
        String json = env.get(variable);
        if (json == null || json.isBlank()) {
          throw new PersistenceException(
              "The environment variable " + variable + " holding the keyset is not set or empty");
        }
        try {
          Keysets.registerTink();
          return TinkJsonProtoKeysetFormat.parseKeyset(json, InsecureSecretKeyAccess.get());
        } catch (GeneralSecurityException | RuntimeException e) {
          throw new PersistenceException(
              "The environment variable "
                  + variable
                  + " does not hold a Tink JSON keyset ("
                  + e.getClass().getSimpleName()
                  + ")");
        }
      }

      @Override
      public void store(KeysetHandle keyset) {
        throw new UnsupportedOperationException(
            "The keyset comes from the environment variable "
                + variable
                + ", which Cairn cannot change: write the new keyset to a file and set the"
                + " variable to its content");
      }

      @Override
      public String describe() {
        return "environment variable " + variable;
      }

      @Override
      public String toString() {
        return describe();
      }
    };
  }

  /**
   * A keyset file encrypted under a key derived from a password with Argon2id; the derivation's
   * salt and costs are in {@code <file>.kdf}. The password supplier is called once per load or
   * store, and the array it returns is cleared after use.
   */
  public static KeySource password(Path file, Supplier<char[]> password) {
    Path parameters = kdfFile(file);
    return new KeySource() {
      @Override
      public KeysetHandle load() {
        return KeysetFiles.readEncrypted(file, master(), "the password-derived key");
      }

      @Override
      public void store(KeysetHandle keyset) {
        if (!Files.exists(parameters)) {
          KeysetFiles.write(
              parameters,
              PasswordKey.format(
                  PasswordKey.newParameters(
                      PasswordKey.DEFAULT_MEMORY_KIB, PasswordKey.DEFAULT_ITERATIONS)));
        }
        KeysetFiles.writeEncrypted(file, keyset, master());
      }

      private Aead master() {
        char[] secret = password.get();
        if (secret == null || secret.length == 0) {
          throw new PersistenceException(
              "No password for the keyset file " + file + ": the password source is empty");
        }
        try {
          return PasswordKey.derive(secret, PasswordKey.parse(parameters), parameters);
        } finally {
          Arrays.fill(secret, '\0');
        }
      }

      @Override
      public String describe() {
        return "password-protected keyset file " + file;
      }

      @Override
      public String toString() {
        return describe();
      }
    };
  }

  /**
   * A keyset file encrypted under a KMS key named by {@code uri}, through the first {@link
   * KmsMasterKey} on the class path that supports it.
   */
  public static KeySource kms(Path file, String uri) {
    return kms(file, uri, ServiceLoader.load(KmsMasterKey.class));
  }

  static KeySource kms(Path file, String uri, Iterable<KmsMasterKey> providers) {
    return new KeySource() {
      @Override
      public KeysetHandle load() {
        return KeysetFiles.readEncrypted(file, master(), "the KMS key " + uri);
      }

      @Override
      public void store(KeysetHandle keyset) {
        KeysetFiles.writeEncrypted(file, keyset, master());
      }

      private Aead master() {
        for (KmsMasterKey provider : providers) {
          if (provider.supports(uri)) {
            try {
              return provider.aead(uri);
            } catch (GeneralSecurityException e) {
              throw new PersistenceException(
                  "The KMS key " + uri + " cannot be used (" + e.getMessage() + ")", e);
            }
          }
        }
        throw new PersistenceException(
            "No KmsMasterKey provider on the class path supports "
                + uri
                + ": add the jar registering one in META-INF/services/"
                + KmsMasterKey.class.getName());
      }

      @Override
      public String describe() {
        return "KMS-protected keyset file " + file + " (" + uri + ")";
      }

      @Override
      public String toString() {
        return describe();
      }
    };
  }

  /** The file holding the key derivation parameters of a password-protected keyset file. */
  public static Path kdfFile(Path keysetFile) {
    return keysetFile.resolveSibling(keysetFile.getFileName() + ".kdf");
  }

  /** Used by tests to derive faster: the same code with smaller costs. */
  static void writeParameters(Path keysetFile, int memoryKib, int iterations) {
    Properties p = PasswordKey.newParameters(memoryKib, iterations);
    KeysetFiles.write(kdfFile(keysetFile), PasswordKey.format(p));
  }
}
