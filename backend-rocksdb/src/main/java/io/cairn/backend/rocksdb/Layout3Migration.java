package io.cairn.backend.rocksdb;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.spi.EngineRecords;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.rocksdb.FlushOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Migrates a directory of layout 3 (every record in column family {@code records}) to layout 4 (the
 * base's bookkeeping records in column family {@code base}; {@link RocksStorageEngine} has both
 * layouts and the reason) at its first writable open, crash-safe. Nothing is rewritten: keys and
 * values are the same in both layouts, only the family of the bookkeeping records changes.
 *
 * <h2>Steps and commit point</h2>
 *
 * <ol>
 *   <li>One batch writes {@code layout-version = 4} and the marker {@code layout-4-moving}, WAL
 *       fsynced (flushed at {@code none}). From here on an older Cairn, which reads layout 3,
 *       refuses the directory (an unknown layout version) rather than taking {@code base} for a
 *       family of layout 2 and dropping it; a read-only open refuses it, naming the writable open
 *       that finishes the migration.
 *   <li>Moves every bookkeeping record ({@link EngineRecords#isBookkeeping}: the spi's rule, which
 *       the engine routes by) from {@code records} to {@code base}, in batches of at most {@link
 *       #BATCH_RECORDS} records or {@link #BATCH_BYTES} bytes. Each batch puts its records into
 *       {@code base} and deletes them from {@code records}, so every record is in exactly one
 *       family at every instant, across a crash too (a batch is atomic; at {@code none}, where the
 *       WAL is off, {@code atomic_flush} keeps both families at one point). A crash here leaves the
 *       marker: the next writable open starts this step again, moving what is left. The walk seeks
 *       once per store: a store's bookkeeping records sort first (all of a {@code _} store's; a
 *       log's position is its empty key), so it moves them and skips the rest of the store.
 *   <li>Flushes every memtable (atomic, waiting), so the moved records are in SST files whatever
 *       the durability.
 *   <li><b>Commit point:</b> deletes the marker, WAL fsynced (flushed at {@code none}). After it,
 *       the directory is layout 4 like one created by this Cairn.
 * </ol>
 *
 * A key in {@code records} that names no store stops the migration with {@link
 * StoreCorruptedException} naming it (the moves made so far stay; every record is still readable in
 * its family, and the marker makes the next open go on). Progress is logged every {@link
 * #LOG_EVERY} batches and at the end.
 */
final class Layout3Migration {
  private static final Logger LOG = LoggerFactory.getLogger(Layout3Migration.class);

  /** The marker in column family {@code default} while records are being moved (see above). */
  static final byte[] MOVING_KEY = "layout-4-moving".getBytes(StandardCharsets.US_ASCII);

  static final int BATCH_RECORDS = 1000;
  static final int BATCH_BYTES = 4 << 20;
  static final int LOG_EVERY = 100;

  /** Test hook: called after each batch is written, with the batches so far; null outside. */
  static volatile java.util.function.IntConsumer afterBatch;

  /** Test hook: called after the commit point; null outside. */
  static volatile Runnable afterCommit;

  private final RocksStorageEngine e;
  private final MigrationBatches batches;
  private long moved;

  private Layout3Migration(RocksStorageEngine e) {
    this.e = e;
    this.batches =
        new MigrationBatches(
            e,
            BATCH_RECORDS,
            BATCH_BYTES,
            written -> {
              if (written % LOG_EVERY == 0) {
                LOG.info("{}: layout 3 to 4: {} records moved so far", e.describe, moved);
              }
              java.util.function.IntConsumer hook = afterBatch;
              if (hook != null) {
                hook.accept(written);
              }
            });
  }

  /** Whether a migration from layout 3 was started and not committed (its marker is present). */
  static boolean interrupted(RocksStorageEngine e) throws RocksDBException {
    return e.db.get(e.metaCf, e.readOptions, MOVING_KEY) != null;
  }

  /**
   * Runs the steps of the class comment (from step 1 for a layout-3 directory, which is harmless to
   * repeat when resuming); caller is opening (no other call runs).
   */
  static void run(RocksStorageEngine e) throws RocksDBException {
    long started = System.nanoTime();
    boolean resumed = interrupted(e);
    LOG.info(
        "{}: {} layout {} to layout {}: moving the base's bookkeeping records from column family"
            + " '{}' to '{}'",
        e.describe,
        resumed ? "resuming the migration of" : "migrating",
        RocksStorageEngine.LAYOUT_VERSION_ONE_FAMILY,
        RocksStorageEngine.LAYOUT_VERSION,
        RocksStorageEngine.CF_RECORDS,
        RocksStorageEngine.CF_BASE);
    try (WriteBatch start = new WriteBatch()) {
      start.put(
          e.metaCf, Layout.LAYOUT_VERSION_KEY, Layout.intBytes(RocksStorageEngine.LAYOUT_VERSION));
      start.put(
          e.metaCf, MOVING_KEY, Layout.intBytes(RocksStorageEngine.LAYOUT_VERSION_ONE_FAMILY));
      e.db.write(e.syncedWriteOptions(), start);
    }
    flushAtNone(e);
    Layout3Migration m = new Layout3Migration(e);
    try {
      m.move();
    } catch (StoreCorruptedException damaged) {
      throw new StoreCorruptedException(
          "Migrating layout 3 to 4 stopped after moving "
              + m.moved
              + " records: "
              + damaged.getMessage()
              + " The records moved so far are in column family '"
              + RocksStorageEngine.CF_BASE
              + "', the rest in '"
              + RocksStorageEngine.CF_RECORDS
              + "' (each in one place); the next writable open goes on where this one stopped.",
          damaged);
    } finally {
      m.batches.close();
    }
    try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
      e.db.flush(fo, e.allCfs); // step 3
    }
    e.db.delete(e.metaCf, e.syncedWriteOptions(), MOVING_KEY); // step 4: the commit point
    flushAtNone(e);
    Runnable hook = afterCommit;
    if (hook != null) {
      hook.run();
    }
    LOG.info(
        "{}: migrated layout {} to layout {}: {} records moved in {} batches, {} ms",
        e.describe,
        RocksStorageEngine.LAYOUT_VERSION_ONE_FAMILY,
        RocksStorageEngine.LAYOUT_VERSION,
        m.moved,
        m.batches.written(),
        (System.nanoTime() - started) / 1_000_000);
  }

  /** At {@code none} the WAL is off: a write is durable once flushed. */
  private static void flushAtNone(RocksStorageEngine e) throws RocksDBException {
    if (e.context.durability() == Durability.NONE) {
      try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
        e.db.flush(fo, e.allCfs);
      }
    }
  }

  /** Step 2; the iterator reads an implicit snapshot, so the batch's deletes do not disturb it. */
  private void move() throws RocksDBException {
    e.eachStore(
        e.records(),
        e.readOptions,
        (it, store, p) -> {
          byte[] prefix = Arrays.copyOf(it.key(), p);
          while (it.isValid()
              && Layout.startsWith(it.key(), prefix)
              && EngineRecords.isBookkeeping(
                  store, Arrays.copyOfRange(it.key(), p, it.key().length))) {
            add(it.key(), it.value());
            it.next();
          }
        });
    batches.write();
  }

  private void add(byte[] key, byte[] value) throws RocksDBException {
    batches.batch().put(e.base(), key, value);
    batches.batch().delete(e.records(), key);
    moved++;
    batches.added(key.length + value.length);
  }
}
