package io.cairn.encryption;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.TinkJsonProtoKeysetFormat;
import io.cairn.persistence.PersistenceException;
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
import java.security.GeneralSecurityException;

/**
 * Reading and writing keyset files in Tink's JSON format, in clear or encrypted under a master key.
 * A write goes to a temporary file created 0600 (whatever the umask), is forced to disk, renamed
 * over the old file and the directory forced, so a crash leaves the old or the new keyset. Symbolic
 * links are not followed.
 */
final class KeysetFiles {
  /** Associated data of an encrypted keyset: a keyset file cannot pass for another kind of file. */
  private static final byte[] KEYSET_AD = "cairn-keyset-v1".getBytes(StandardCharsets.US_ASCII);

  private KeysetFiles() {}

  static KeysetHandle readClear(Path file) {
    String json = read(file);
    try {
      Keysets.registerTink();
      return TinkJsonProtoKeysetFormat.parseKeyset(json, InsecureSecretKeyAccess.get());
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new PersistenceException(
          "The keyset file " + file + " is not a Tink JSON keyset (" + kind(e) + ")");
    }
  }

  static KeysetHandle readEncrypted(Path file, Aead masterKey, String whatUnlocks) {
    String json = read(file);
    try {
      Keysets.registerTink();
      return TinkJsonProtoKeysetFormat.parseEncryptedKeyset(json, masterKey, KEYSET_AD);
    } catch (GeneralSecurityException e) {
      throw new PersistenceException(
          "The keyset file "
              + file
              + " cannot be decrypted with "
              + whatUnlocks
              + ": a wrong password or master key, or an altered file");
    } catch (RuntimeException e) {
      throw new PersistenceException(
          "The keyset file " + file + " is not an encrypted Tink JSON keyset (" + kind(e) + ")");
    }
  }

  static void writeClear(Path file, KeysetHandle keyset) {
    try {
      write(file, TinkJsonProtoKeysetFormat.serializeKeyset(keyset, InsecureSecretKeyAccess.get()));
    } catch (GeneralSecurityException e) {
      throw new PersistenceException("Cannot serialize the keyset for " + file, e);
    }
  }

  static void writeEncrypted(Path file, KeysetHandle keyset, Aead masterKey) {
    try {
      write(file, TinkJsonProtoKeysetFormat.serializeEncryptedKeyset(keyset, masterKey, KEYSET_AD));
    } catch (GeneralSecurityException e) {
      throw new PersistenceException("Cannot encrypt the keyset for " + file, e);
    }
  }

  static String read(Path file) {
    try {
      if (Files.isSymbolicLink(file)) {
        throw new PersistenceException(
            "The keyset file " + file + " is a symbolic link; Cairn does not follow links there");
      }
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new PersistenceException(
          "The keyset file "
              + file
              + " does not exist: create one (Keysets.generate, then KeySource.store)");
    } catch (IOException e) {
      throw new PersistenceException("Cannot read the keyset file " + file + ": " + e, e);
    }
  }

  /** Atomically replaces {@code file} with {@code content}, mode 0600. */
  static void write(Path file, String content) {
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = dir.resolve(file.getFileName() + ".tmp");
    try {
      Files.deleteIfExists(tmp);
      Files.createFile(
          tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      // The umask can only take bits away, but say it explicitly: a keyset is never group-readable.
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      try (FileChannel ch =
          FileChannel.open(tmp, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
        ch.write(java.nio.ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)));
        ch.force(true);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new PersistenceException(
            "Cannot replace the keyset file " + file + " atomically on this file system", e);
      }
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      }
    } catch (IOException e) {
      throw new PersistenceException("Cannot write the keyset file " + file + ": " + e, e);
    }
  }

  private static String kind(Exception e) {
    return e.getClass().getSimpleName();
  }
}
