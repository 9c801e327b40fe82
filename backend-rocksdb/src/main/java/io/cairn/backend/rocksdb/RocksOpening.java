package io.cairn.backend.rocksdb;

import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.DataDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.rocksdb.RocksDBException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open sequence of a RocksDB data directory ({@link RocksStorageEngine}): the data directory
 * (lock, owner, permissions, foreign files), the {@link Anchor} checks before and after RocksDB's
 * WAL replay, the {@code on-corruption} policy (quarantine into {@code corrupt-<UTC stamp>} and
 * start empty) and the full checksum pass after corruption was seen at run time ({@link
 * RocksEngine#CORRUPTION_MARKER}).
 */
final class RocksOpening {
  private static final Logger LOG = LoggerFactory.getLogger(RocksOpening.class);

  private RocksOpening() {}

  /** Builds an engine object (natives not opened yet) over a locked data directory. */
  interface Factory<T extends RocksEngine> {
    T create(BackendContext context, RocksDbConfig config, DataDirectory dataDirectory);
  }

  /**
   * Opens the data directory and the engine, applying the on-corruption policy. Either returns an
   * open engine (which then owns the data directory) or throws with every native handle, lock and
   * thread released.
   */
  static <T extends RocksEngine> T open(
      BackendContext context, RocksDbConfig config, Factory<T> factory) {
    DataDirectory dataDirectory =
        DataDirectory.readOnlyRequested(context)
            ? DataDirectory.openReadOnly(
                context, DataDirectory.Options.of(context), RocksOpening::isEngineFile)
            : DataDirectory.open(
                context, DataDirectory.Options.of(context), RocksOpening::isEngineFile);
    try {
      T b = openLocked(context, config, dataDirectory, factory);
      b.ownsDirectory = true;
      return b;
    } catch (RuntimeException | Error e) {
      dataDirectory.close();
      throw e;
    }
  }

  private static <T extends RocksEngine> T openLocked(
      BackendContext context,
      RocksDbConfig config,
      DataDirectory dataDirectory,
      Factory<T> factory) {
    Path dir = context.dataDir();
    // A read-only open never moves the owner's files, whatever on-corruption says.
    boolean quarantine =
        !dataDirectory.readOnly() && config.onCorruption() == RocksDbConfig.OnCorruption.QUARANTINE;
    try {
      T b = openOnce(context, config, dataDirectory, factory);
      if (quarantine && Files.exists(dir.resolve(RocksEngine.CORRUPTION_MARKER))) {
        // An earlier run saw corruption at run time: confirm with a full checksum pass.
        try {
          b.db.verifyChecksum();
          Files.deleteIfExists(dir.resolve(RocksEngine.CORRUPTION_MARKER));
        } catch (RocksDBException e) {
          b.close();
          throw RocksErrors.translate(e, "verify after corruption", context.describe(), dir);
        } catch (IOException e) {
          LOG.warn(
              "Could not remove {}: {}", dir.resolve(RocksEngine.CORRUPTION_MARKER), e.toString());
        }
      }
      return b;
    } catch (StoreCorruptedException e) {
      if (!quarantine) {
        throw e;
      }
      Path aside = quarantineDirectory(dataDirectory, context.describe(), e);
      T b = openOnce(context, config, dataDirectory, factory);
      b.quarantinedTo = aside.toString();
      // A count of quarantines in this process; unlike the engine gauges it outlives the backend.
      context.metrics().counter(context.metricPrefix() + ".rocksdb.quarantined").inc();
      return b;
    }
  }

  /** Numbered engine files; compiled once (the foreign-file check runs it on every file). */
  private static final java.util.regex.Pattern NUMBERED_FILE =
      java.util.regex.Pattern.compile("[0-9]+\\.(sst|log|blob)");

  /**
   * Whether {@code name} is a file RocksDB or this backend creates in the data directory (for
   * DataDirectory's foreign-file check): CURRENT, IDENTITY, LOCK, the info LOG and its old copies,
   * MANIFEST-*, OPTIONS-*, numbered .sst/.log/.blob files, temporary .dbtmp files, the corruption
   * marker, the anchor ({@link Anchor}) and its temporary copy, and the owner file of older
   * versions.
   */
  static boolean isEngineFile(String name) {
    return name.equals("CURRENT")
        || name.equals("IDENTITY")
        || name.equals("LOCK")
        || name.equals("LOG")
        || name.startsWith("LOG.old.")
        || name.startsWith("MANIFEST-")
        || name.startsWith("OPTIONS-")
        || NUMBERED_FILE.matcher(name).matches()
        || name.endsWith(".dbtmp")
        || name.equals(RocksEngine.CORRUPTION_MARKER)
        || name.equals(Anchor.FILE)
        || name.equals(Anchor.FILE + ".tmp")
        || name.equals("CAIRN-OWNER");
  }

  private static <T extends RocksEngine> T openOnce(
      BackendContext context,
      RocksDbConfig config,
      DataDirectory dataDirectory,
      Factory<T> factory) {
    T b = factory.create(context, config, dataDirectory);
    try {
      Anchor.State anchor = Anchor.read(b.dir, b.describe);
      Anchor.checkBeforeOpen(b.dir, b.describe, anchor);
      b.openNatives();
      Anchor.checkAfterOpen(b.dir, b.describe, anchor, b.db.getLatestSequenceNumber());
      b.opened();
      if (!dataDirectory.readOnly()) { // read-only: a secondary instance writes nothing here
        b.writeAnchor("open");
        dataDirectory.tightenPermissions();
      }
      return b;
    } catch (RuntimeException | Error e) {
      try {
        b.close();
      } catch (RuntimeException closeFailure) {
        e.addSuppressed(closeFailure);
      }
      throw e;
    }
  }

  /**
   * Moves every engine file (everything but cairn.lock and earlier quarantines) into a new {@code
   * corrupt-<UTC stamp>} directory inside the data directory, so the backend can start empty while
   * keeping its lock. Called with the engine closed.
   */
  private static Path quarantineDirectory(
      DataDirectory dataDirectory, String describe, StoreCorruptedException e) {
    Path aside;
    try {
      aside = dataDirectory.quarantine(dataDirectory.engineEntries());
    } catch (IOException io) {
      PersistenceException failure =
          new StoreCorruptedException(
              describe
                  + " is corrupt and on-corruption = quarantine, but moving its files aside into a "
                  + DataDirectory.QUARANTINE_PREFIX
                  + "<stamp> directory of "
                  + dataDirectory.path()
                  + " failed: "
                  + io
                  + ". Move or delete the damaged files by hand.",
              e);
      failure.addSuppressed(io);
      throw failure;
    }
    LOG.warn(
        "{} was corrupt ({}); moved its files to {} and started empty (on-corruption = quarantine)",
        describe,
        e.getMessage(),
        aside);
    return aside;
  }
}
