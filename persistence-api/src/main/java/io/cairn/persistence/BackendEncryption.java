package io.cairn.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.cairn.persistence.spi.AssociatedData;
import io.cairn.persistence.spi.Encryption;
import io.cairn.persistence.spi.EncryptionProvider;
import io.cairn.persistence.spi.KeyCheckStore;
import io.cairn.persistence.spi.Settings;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * A backend's configured encryption: its {@code encryption} section and the {@link
 * EncryptionProvider} that reads it. Opens the keys and keeps the key check record {@value
 * EncryptionProvider#KEY_CHECK_FILE} in the data directory (or, for a backend that implements
 * {@link KeyCheckStore}, in its own storage, with the same rules):
 *
 * <ul>
 *   <li>record present: the keys must open it, or the backend is closed again and the open fails
 *       naming the key it needs;
 *   <li>no record and no stores: a new backend; the record is written (0600, atomically);
 *   <li>no record but stores: the data was written without encryption; refused.
 * </ul>
 */
final class BackendEncryption {
  private final EncryptionProvider provider;
  private final Config section;
  private final String path;
  private final Set<String> hashedNamespaces;
  // where checkKeys found the record (the same store the provider attached to)
  private volatile KeyCheckStore attached;

  // package-private for tests
  BackendEncryption(
      EncryptionProvider provider, Config section, String path, Set<String> hashedNamespaces) {
    this.provider = provider;
    this.section = section;
    this.path = path;
    this.hashedNamespaces = hashedNamespaces;
  }

  private static final String KEY_HASH_STORE = "cairn.keyhash";
  private static final byte[] KEY_HASH_AD_KEY = "prf-key".getBytes(StandardCharsets.US_ASCII);

  /** Empty when the backend's {@code encryption} section is empty (off). */
  static Optional<BackendEncryption> read(
      Config merged, String backendPath, List<ConfigProblem> problems) {
    if (!merged.hasPath("encryption") || merged.getObject("encryption").isEmpty()) {
      return Optional.empty();
    }
    String path = backendPath + ".encryption";
    Optional<EncryptionProvider> provider = provider();
    if (provider.isEmpty()) {
      problems.add(
          new ConfigProblem(
              path,
              Settings.origin(merged.getValue("encryption").origin()),
              "an encryption provider on the class path (add cairn-encryption), or no encryption"
                  + " section",
              "an encryption section and no provider: refusing to store values in clear"));
      return Optional.empty();
    }
    Config section = merged.getConfig("encryption");
    Set<String> hashed = new TreeSet<>();
    if (section.hasPath(HashedKeys.OPTION)) {
      try {
        hashed.addAll(section.getStringList(HashedKeys.OPTION));
      } catch (ConfigException.WrongType e) {
        problems.add(
            new ConfigProblem(
                path + "." + HashedKeys.OPTION,
                Settings.origin(section.getValue(HashedKeys.OPTION).origin()),
                "a list of key-value namespace names",
                "a " + section.getValue(HashedKeys.OPTION).valueType().name().toLowerCase()));
      }
      // the registry's option, not the provider's: the provider sees the rest of the section
      section = section.withoutPath(HashedKeys.OPTION);
    }
    provider.get().validate(new Settings(section, path, problems));
    return Optional.of(new BackendEncryption(provider.get(), section, path, Set.copyOf(hashed)));
  }

  private static Optional<EncryptionProvider> provider() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    Iterator<EncryptionProvider> it =
        ServiceLoader.load(
                EncryptionProvider.class,
                cl != null ? cl : BackendEncryption.class.getClassLoader())
            .iterator();
    return it.hasNext() ? Optional.of(it.next()) : Optional.empty();
  }

  Encryption open(String backend, List<ConfigProblem> problems) {
    return provider.open(backend, new Settings(section, path, problems));
  }

  /**
   * Checks or creates the key check record, after the backend opened (so its lock is held).
   *
   * @throws PersistenceException when the keys do not fit the data, or the data is unencrypted
   */
  void checkKeys(String backend, Encryption encryption, Path dataDir, StorageBackend opened) {
    KeyCheckStore store = keyCheckStore(dataDir, opened);
    attached = store;
    if (store.readKeyCheck().isEmpty() && !opened.stores().isEmpty()) {
      throw writtenInClear(backend, store.keyCheckLocation());
    }
    provider.attach(backend, encryption, store);
  }

  /**
   * Where the record is kept: the backend's own storage if it implements {@link KeyCheckStore},
   * else the file in its data directory, else (a backend without a data directory, memory) in this
   * process only: nothing of such a backend outlives it, so no old data can meet a wrong key.
   */
  private static KeyCheckStore keyCheckStore(Path dataDir, StorageBackend opened) {
    if (opened instanceof KeyCheckStore store) {
      return store;
    }
    if (Files.isDirectory(dataDir, LinkOption.NOFOLLOW_LINKS)) {
      return new FileKeyCheck(dataDir.resolve(EncryptionProvider.KEY_CHECK_FILE));
    }
    return KeyCheckStore.inMemory("the memory of this process");
  }

  /** The record as a file (0600, replaced atomically); the backend's directory lock is held. */
  private static final class FileKeyCheck implements KeyCheckStore {
    private final Path file;

    FileKeyCheck(Path file) {
      this.file = file;
    }

    @Override
    public synchronized Optional<byte[]> readKeyCheck() {
      try {
        return Optional.of(Files.readAllBytes(file));
      } catch (NoSuchFileException e) {
        return Optional.empty();
      } catch (IOException e) {
        throw new StorageEngineException("Cannot read the key check record " + file + ": " + e, e);
      }
    }

    @Override
    public synchronized byte[] createKeyCheck(byte[] record) {
      Optional<byte[]> now = readKeyCheck();
      if (now.isPresent()) {
        return now.get();
      }
      write(file, record);
      return record;
    }

    @Override
    public synchronized void replaceKeyCheck(byte[] record) {
      write(file, record);
    }

    @Override
    public String keyCheckLocation() {
      return file.toString();
    }
  }

  private PersistenceException writtenInClear(String backend, String location) {
    return new PersistenceException(
        "Backend '"
            + backend
            + "' holds data but has no key check record ("
            + location
            + "): it was written without encryption, and Cairn does not encrypt data in place."
            + " Remove "
            + path
            + " to open it as it is, or copy it into a new encrypted backend (cairn migrate).");
  }

  /**
   * The keyed hash of keys for the namespaces of {@code hashed-key-namespaces}, or null when none
   * are listed. Its key (32 random bytes) is kept in {@value EncryptionProvider#KEY_HASH_FILE}
   * (0600) sealed under the keyset, so AEAD key rotation does not change it; it is made when the
   * file is absent and no listed namespace holds data yet, and refused otherwise (the keys stored
   * there would be unreachable).
   *
   * @throws ConfigurationException when the encryption hook offers no keyed hash
   */
  HashedKeys hashedKeys(
      String backend, Encryption encryption, Path dataDir, StorageBackend opened) {
    if (hashedNamespaces.isEmpty()) {
      return null;
    }
    // a probe with a throw-away key: whether the hook offers a keyed hash at all, before any
    // key file is read or made
    Optional<UnaryOperator<byte[]>> prf = encryption.keyedHash(new byte[32]);
    if (prf.isEmpty()) {
      throw new ConfigurationException(
          "Backend '"
              + backend
              + "': "
              + path
              + "."
              + HashedKeys.OPTION
              + " lists namespaces, but its encryption provider ("
              + provider.getClass().getName()
              + ") offers no keyed hash of keys. Remove the option or use a provider that offers"
              + " one (cairn-encryption does).");
    }
    byte[] ad = AssociatedData.forValue(backend, KEY_HASH_STORE, KEY_HASH_AD_KEY);
    byte[] key;
    if (!Files.isDirectory(dataDir, LinkOption.NOFOLLOW_LINKS)) {
      key = randomKey(); // nothing persists (memory): a fresh key each open is consistent
    } else {
      Path file = dataDir.resolve(EncryptionProvider.KEY_HASH_FILE);
      try {
        key = encryption.open(Files.readAllBytes(file), ad);
      } catch (NoSuchFileException e) {
        for (StoreId id : opened.stores()) {
          if (id.kind() == StoreKind.KEY_VALUE && hashedNamespaces.contains(id.name())) {
            throw new PersistenceException(
                "Backend '"
                    + backend
                    + "': key-value namespace '"
                    + id.name()
                    + "' is listed in "
                    + HashedKeys.OPTION
                    + " and holds data, but the key of its keyed hash ("
                    + file
                    + ") is missing: its keys cannot be found without it. Restore the file from"
                    + " a backup, or remove the namespace from the option.");
          }
        }
        key = randomKey();
        write(file, encryption.seal(key, ad));
      } catch (IOException e) {
        throw new StorageEngineException("Cannot read " + file + ": " + e, e);
      } catch (RuntimeException e) {
        throw new PersistenceException(
            "Backend '"
                + backend
                + "': the key of the keyed hash of keys ("
                + file
                + ") cannot be opened with the configured keys ("
                + e.getClass().getSimpleName()
                + "): it was altered, or is sealed under a key not in (or revoked in) the keyset.",
            e);
      }
    }
    return new HashedKeys(backend, hashedNamespaces, encryption.keyedHash(key).orElseThrow());
  }

  private static byte[] randomKey() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return key;
  }

  /**
   * Replaces the key check record with one sealed by the current primary key (atomically), after
   * {@link StorageBackend#reseal} re-encrypted the data, so the old key is needed for nothing.
   */
  void resealKeyCheck(String backend, Encryption encryption, Path dataDir, StorageBackend opened) {
    provider.resealKeyCheck(
        backend, encryption, attached != null ? attached : keyCheckStore(dataDir, opened));
    if (!(opened instanceof KeyCheckStore)
        && Files.isDirectory(dataDir, LinkOption.NOFOLLOW_LINKS)) {
      Path keyHash = dataDir.resolve(EncryptionProvider.KEY_HASH_FILE);
      if (Files.exists(keyHash, LinkOption.NOFOLLOW_LINKS)) {
        // the same PRF key, sealed under the new primary, so the old key can be revoked
        byte[] ad = AssociatedData.forValue(backend, KEY_HASH_STORE, KEY_HASH_AD_KEY);
        try {
          write(keyHash, encryption.seal(encryption.open(Files.readAllBytes(keyHash), ad), ad));
        } catch (IOException e) {
          throw new StorageEngineException("Cannot reseal " + keyHash + ": " + e, e);
        }
      }
    }
  }

  /**
   * Copies the key check record and the key of the keyed hash (when present) from {@code dataDir}
   * into the backup copy {@code target} (0600, atomically), after the engine's checkpoint: the
   * copy's counts are then at least those of the checkpoint, which is the safe side.
   */
  void copyKeyFiles(Path dataDir, Path target) {
    if (!Files.isDirectory(dataDir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    for (String name :
        List.of(EncryptionProvider.KEY_CHECK_FILE, EncryptionProvider.KEY_HASH_FILE)) {
      Path from = dataDir.resolve(name);
      try {
        write(target.resolve(name), Files.readAllBytes(from));
      } catch (NoSuchFileException e) {
        // no keyed hash configured: nothing to copy
      } catch (IOException e) {
        throw new StorageEngineException("Cannot copy " + from + " into the backup: " + e, e);
      }
    }
  }

  private static void write(Path file, byte[] content) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(tmp);
      Files.createFile(
          tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
        ch.write(java.nio.ByteBuffer.wrap(content));
        ch.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
        dir.force(true);
      }
    } catch (AtomicMoveNotSupportedException e) {
      throw new StorageEngineException("Cannot write " + file + " atomically here", e);
    } catch (IOException e) {
      throw new StorageEngineException("Cannot write " + file + ": " + e, e);
    }
  }
}
