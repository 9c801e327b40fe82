package io.cairn.backend.sqlite;

import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.StorageEngineException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Exclusive ownership of a data directory for the life of one backend.
 *
 * <p>On disk: {@code <dir>/cairn.lock}, mode 0600, holding one line {@code pid=<pid> backend=<name>
 * since=<ISO instant>} written after the lock is taken. The lock itself is an OS advisory lock
 * ({@link FileChannel#tryLock()}) on that file, so it disappears when the holder exits for any
 * reason, {@code kill -9} included; a stale file without a lock is simply reused. The file is never
 * deleted (deleting it would let a third opener lock a different inode).
 *
 * <p>OS file locks are per process, so a second open in the same JVM is detected through a
 * process-wide registry of held directories before the OS lock is tried.
 */
final class DirectoryLock implements AutoCloseable {
  static final String FILE_NAME = "cairn.lock";

  private static final Map<Path, String> HELD_IN_THIS_JVM = new ConcurrentHashMap<>();

  private final Path dir;
  private final FileChannel channel;
  private final FileLock lock;

  private DirectoryLock(Path dir, FileChannel channel, FileLock lock) {
    this.dir = dir;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Locks {@code dir} (which must exist) for backend {@code backendName}.
   *
   * @throws BackendLockedException naming the directory and the holder's pid if it is held
   * @throws StorageEngineException if the lock file cannot be created
   */
  static DirectoryLock acquire(Path dir, String backendName, String describe) {
    Path key = dir.toAbsolutePath().normalize();
    long pid = ProcessHandle.current().pid();
    String holder = HELD_IN_THIS_JVM.putIfAbsent(key, backendName);
    if (holder != null) {
      throw new BackendLockedException(
          "Cannot open "
              + describe
              + ": the data directory "
              + key
              + " is already open in this process (pid "
              + pid
              + ") by backend '"
              + holder
              + "'. Close that backend first, or give each backend its own data-dir.");
    }
    Path file = key.resolve(FILE_NAME);
    FileChannel channel = null;
    try {
      if (!Files.exists(file)) {
        try {
          FilePermissions.createPrivateFile(file);
        } catch (java.nio.file.FileAlreadyExistsException raced) {
          // another process created it first; locking decides who wins
        }
      }
      channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        String owner = readHolder(channel);
        channel.close();
        HELD_IN_THIS_JVM.remove(key);
        throw new BackendLockedException(
            "Cannot open "
                + describe
                + ": the data directory "
                + key
                + " is locked by another process ("
                + owner
                + "; lock file "
                + file
                + "). Stop that process or point this backend at another data-dir. The lock"
                + " is released automatically when the holder exits.");
      }
      String line =
          "pid="
              + pid
              + " backend="
              + backendName
              + " since="
              + Instant.now()
              + System.lineSeparator();
      channel.truncate(0);
      channel.write(ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8)), 0);
      channel.force(false);
      return new DirectoryLock(key, channel, lock);
    } catch (IOException e) {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      HELD_IN_THIS_JVM.remove(key);
      throw new StorageEngineException(
          "Cannot open "
              + describe
              + ": creating or locking "
              + file
              + " failed: "
              + e
              + ". Check that the directory is writable by this user.",
          e);
    }
  }

  private static String readHolder(FileChannel channel) {
    try {
      ByteBuffer buf = ByteBuffer.allocate(512);
      channel.read(buf, 0);
      String text = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).trim();
      return text.isEmpty() ? "holder unknown" : "holder " + text;
    } catch (IOException e) {
      return "holder unknown: " + e.getMessage();
    }
  }

  /** Releases the lock. Idempotent. */
  @Override
  public void close() {
    try {
      if (channel.isOpen()) {
        lock.release();
        channel.close();
      }
    } catch (IOException e) {
      // closing the channel releases the OS lock in any case
    } finally {
      HELD_IN_THIS_JVM.remove(dir);
    }
  }
}
