package io.cairn.backend.sqlite;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Creates the backend's directory (0700) and files (0600) on POSIX file systems; elsewhere the
 * platform defaults apply. SQLite gives its {@code -wal} and {@code -shm} files the mode of the
 * database file, so pre-creating {@code cairn.db} with 0600 covers them.
 */
final class FilePermissions {
  private static final boolean POSIX =
      FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

  private FilePermissions() {}

  /** Creates {@code dir} and missing parents; a directory created here gets mode 0700. */
  static void createPrivateDirectories(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      return;
    }
    if (POSIX) {
      Files.createDirectories(dir, attrs("rwx------"));
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    } else {
      Files.createDirectories(dir);
    }
  }

  /** Creates the empty file {@code file} with mode 0600; fails if it exists. */
  static void createPrivateFile(Path file) throws IOException {
    if (POSIX) {
      Files.createFile(file, attrs("rw-------"));
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    } else {
      Files.createFile(file);
    }
  }

  private static FileAttribute<?> attrs(String perms) {
    return PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(perms));
  }
}
