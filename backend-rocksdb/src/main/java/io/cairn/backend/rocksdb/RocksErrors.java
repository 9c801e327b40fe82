package io.cairn.backend.rocksdb;

import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.StorageEngineException;
import io.cairn.persistence.StoreCorruptedException;
import java.nio.file.Path;
import java.util.Locale;
import org.rocksdb.RocksDBException;
import org.rocksdb.Status;

/**
 * The one place where RocksDB's errors become Cairn exceptions. Every native call of this backend
 * that can fail goes through {@link #translate}; nothing else inspects a {@link RocksDBException}.
 *
 * <ul>
 *   <li>The data directory's {@code LOCK} file held by another instance (this process or another)
 *       becomes {@link BackendLockedException} naming the directory.
 *   <li>{@code Corruption} (checksum mismatch, bad block, damaged MANIFEST/CURRENT, a damaged WAL
 *       under {@code absolute-consistency}) becomes {@link StoreCorruptedException}.
 *   <li>Everything else becomes {@link StorageEngineException} carrying RocksDB's own words, with
 *       advice for the common cases (disk full, I/O error, busy).
 * </ul>
 *
 * Use-after-close never reaches RocksDB: {@link RocksEngine} checks its guard before every native
 * call, so {@link io.cairn.persistence.BackendClosedException} is raised in Java.
 */
final class RocksErrors {
  private RocksErrors() {}

  /**
   * @param e the engine's exception
   * @param what the operation, e.g. {@code "put"}
   * @param where the backend description plus store and key, e.g. {@code "rocksdb backend 'main' at
   *     /data/main, kv:users, key 0x01"}
   * @param dataDir the backend's directory, named in lock and corruption messages
   */
  static PersistenceException translate(
      RocksDBException e, String what, String where, Path dataDir) {
    Status status = e.getStatus();
    Status.Code code = status != null ? status.getCode() : Status.Code.Undefined;
    Status.SubCode sub = status != null ? status.getSubCode() : Status.SubCode.None;
    String engine = e.getMessage();
    if (isLock(code, engine)) {
      // Cairn's own cairn.lock is taken first and names its holder; RocksDB's LOCK conflicts
      // only with a program that is not Cairn (a RocksDB tool, for example).
      return new BackendLockedException(
          "Cannot "
              + what
              + " "
              + where
              + ": the data directory "
              + dataDir
              + " is locked by a program that is not Cairn (RocksDB holds "
              + dataDir.resolve("LOCK")
              + "). Close the other instance or point data-dir elsewhere. RocksDB said: "
              + engine,
          e);
    }
    if (code == Status.Code.Corruption) {
      return new StoreCorruptedException(
          "RocksDB found corrupt data during "
              + what
              + " of "
              + where
              + " (directory "
              + dataDir
              + "): "
              + engine
              + ". Nothing corrupt was returned. Run 'cairn verify', restore the directory from a"
              + " backup, or for rebuildable data set on-corruption = quarantine.",
          e);
    }
    String advice;
    if (sub == Status.SubCode.NoSpace
        || (engine != null && engine.toLowerCase(Locale.ROOT).contains("no space"))) {
      advice = "The disk holding " + dataDir + " is full; free space and retry.";
    } else if (code == Status.Code.IOError) {
      advice = "Check the disk and permissions of " + dataDir + ", then retry.";
    } else if (code == Status.Code.Busy
        || code == Status.Code.TryAgain
        || code == Status.Code.TimedOut) {
      advice = "RocksDB is busy (write stall or background work); retry shortly.";
    } else if ((code == Status.Code.InvalidArgument || code == Status.Code.NotSupported)
        && engine != null
        && engine.toLowerCase(Locale.ROOT).contains("incompatible")) {
      // two options that cannot be combined (RocksDB names both), e.g. an advanced db-option
      // against one Cairn sets (atomic_flush): the files are not the matter
      advice =
          "Two options conflict (named above): remove the one set in advanced.db-options or"
              + " cf-options; Cairn needs atomic_flush = true and its WAL tracking.";
    } else if (code == Status.Code.InvalidArgument || code == Status.Code.NotSupported) {
      advice =
          "The files in "
              + dataDir
              + " do not match the options given (advanced db-options/cf-options or a newer"
              + " RocksDB format); check the configuration.";
    } else {
      advice = "See RocksDB's LOG file in " + dataDir + " for details.";
    }
    return new StorageEngineException(
        "RocksDB failed during " + what + " of " + where + ": " + engine + ". " + advice, e);
  }

  /**
   * Whether {@code e} is an I/O error after which RocksDB stops accepting writes until it is
   * reopened (a failed WAL or flush write: no space, EIO). Not lock errors, not corruption.
   */
  static boolean stopsEngine(RocksDBException e) {
    Status status = e.getStatus();
    if (status == null || status.getCode() != Status.Code.IOError) {
      return false;
    }
    return !isLock(status.getCode(), e.getMessage());
  }

  /** Whether {@code e} reports corruption (used by the on-corruption policy at open). */
  static boolean isCorruption(RocksDBException e) {
    return e.getStatus() != null && e.getStatus().getCode() == Status.Code.Corruption;
  }

  private static boolean isLock(Status.Code code, String engine) {
    if (engine == null || (code != Status.Code.IOError && code != Status.Code.Undefined)) {
      return false;
    }
    String m = engine.toLowerCase(Locale.ROOT);
    return m.contains("lock file") || m.contains("lock hold") || m.contains("/lock:");
  }
}
