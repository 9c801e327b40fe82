package io.cairn.persistence;

import com.typesafe.config.Config;
import io.cairn.persistence.spi.Encryption;
import io.cairn.persistence.spi.EncryptionProvider;
import io.cairn.persistence.spi.KeyCheckStore;
import io.cairn.persistence.spi.Settings;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

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

  private BackendEncryption(EncryptionProvider provider, Config section, String path) {
    this.provider = provider;
    this.section = section;
    this.path = path;
  }

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
    provider.get().validate(new Settings(section, path, problems));
    return Optional.of(new BackendEncryption(provider.get(), section, path));
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
    if (opened instanceof KeyCheckStore store) {
      // a backend without a data directory of its own keeps the record in its storage
      String location = store.keyCheckLocation();
      Optional<byte[]> record = store.readKeyCheck();
      if (record.isEmpty()) {
        if (!opened.stores().isEmpty()) {
          throw writtenInClear(backend, location);
        }
        byte[] stored = store.createKeyCheck(provider.newKeyCheck(backend, encryption));
        provider.verifyKeyCheck(backend, encryption, stored, location); // another's, if first
        return;
      }
      provider.verifyKeyCheck(backend, encryption, record.get(), location);
      return;
    }
    if (!Files.isDirectory(dataDir, LinkOption.NOFOLLOW_LINKS)) {
      // A backend without a data directory (memory) keeps nothing across opens: no old data can
      // meet a wrong key, so there is nothing to check.
      return;
    }
    Path file = dataDir.resolve(EncryptionProvider.KEY_CHECK_FILE);
    byte[] record;
    try {
      record = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      if (!opened.stores().isEmpty()) {
        throw writtenInClear(backend, file.toString());
      }
      write(file, provider.newKeyCheck(backend, encryption));
      return;
    } catch (IOException e) {
      throw new StorageEngineException("Cannot read the key check record " + file + ": " + e, e);
    }
    provider.verifyKeyCheck(backend, encryption, record, file.toString());
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
   * Replaces the key check record with one sealed by the current primary key (atomically), after
   * {@link StorageBackend#reseal} re-encrypted the data, so the old key is needed for nothing.
   */
  void resealKeyCheck(String backend, Encryption encryption, Path dataDir, StorageBackend opened) {
    if (opened instanceof KeyCheckStore store) {
      store.replaceKeyCheck(provider.newKeyCheck(backend, encryption));
    } else if (Files.isDirectory(dataDir, LinkOption.NOFOLLOW_LINKS)) {
      write(
          dataDir.resolve(EncryptionProvider.KEY_CHECK_FILE),
          provider.newKeyCheck(backend, encryption));
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
      throw new StorageEngineException("Cannot write the key check record " + file + ": " + e, e);
    }
  }
}
