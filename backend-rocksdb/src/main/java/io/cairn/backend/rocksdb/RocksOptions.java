package io.cairn.backend.rocksdb;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageEngineException;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.WriteBufferManager;

/**
 * Builds the RocksDB options of a {@link RocksEngine} from a {@link RocksDbConfig}: the user's
 * {@code db-options} and {@code cf-options} first, then Cairn's defaults for every option they do
 * not name. The caller owns (and closes) the objects returned.
 */
final class RocksOptions {
  private RocksOptions() {}

  /**
   * RocksDB options that rocksdbjni has no setter for, set by name unless the configuration's
   * {@code db-options} names them. {@code track_and_verify_wals_in_manifest}: the MANIFEST records
   * every closed, synced WAL with its size, and open fails with {@code Corruption} when one is
   * missing or shorter (RocksDB's advice for production; without it a lost WAL is silently
   * recovered around). {@code track_and_verify_wals}: each WAL's header records its predecessor
   * (number, size, last sequence), and open verifies the chain, so a deleted or truncated WAL in
   * the middle of the chain is reported. Both take effect in rocksdbjni 11.8.1 and appear in the
   * OPTIONS file.
   */
  static final Map<String, String> WAL_TRACKING =
      Map.of("track_and_verify_wals_in_manifest", "true", "track_and_verify_wals", "true");

  /** The DB options parsed from {@link #WAL_TRACKING} and the configuration's db-options. */
  static DBOptions dbOptions(RocksDbConfig c) {
    Properties props = new Properties();
    props.putAll(WAL_TRACKING);
    props.putAll(c.dbOptions());
    DBOptions parsed = DBOptions.getDBOptionsFromProps(props);
    if (parsed == null) {
      // Validation already checked db-options on its own; this is only reachable if RocksDB
      // rejects the combination.
      throw new StorageEngineException(
          "RocksDB rejected the DB options " + props + "; check advanced.db-options", null);
    }
    return parsed;
  }

  /** Sets what Cairn needs (atomic flush, WAL recovery mode, ...) and defaults not overridden. */
  static void applyDbDefaults(
      DBOptions dbOptions, RocksDbConfig c, WriteBufferManager wbm, Durability durability) {
    Set<String> dbSet = c.dbOptions().stringPropertyNames();
    dbOptions
        .setCreateIfMissing(true)
        .setCreateMissingColumnFamilies(true)
        .setWriteBufferManager(wbm)
        .setAtomicFlush(true)
        .setWalRecoveryMode(c.walRecovery().resolve(durability));
    if (!dbSet.contains("max_background_jobs")) {
      dbOptions.setMaxBackgroundJobs(c.maxBackgroundJobs());
    }
    if (!dbSet.contains("max_open_files")) {
      dbOptions.setMaxOpenFiles(c.maxOpenFiles());
    }
    if (!dbSet.contains("keep_log_file_num")) {
      dbOptions.setKeepLogFileNum(3);
    }
    if (!dbSet.contains("info_log_level")) {
      dbOptions.setInfoLogLevel(InfoLogLevel.WARN_LEVEL);
    }
    if (!dbSet.contains("max_total_wal_size")) {
      dbOptions.setMaxTotalWalSize(Math.max(64L << 20, 4 * c.writeBufferBytes()));
    }
  }

  /** The column-family options parsed from the configuration's cf-options (or RocksDB's). */
  static ColumnFamilyOptions cfOptions(RocksDbConfig c) {
    return c.cfOptions().isEmpty()
        ? new ColumnFamilyOptions()
        : ColumnFamilyOptions.getColumnFamilyOptionsFromProps(c.cfOptions());
  }

  /** Cairn's defaults for compression and write buffers, where cf-options does not set them. */
  static void applyCfDefaults(ColumnFamilyOptions cfOptions, RocksDbConfig c) {
    Set<String> cfSet = c.cfOptions().stringPropertyNames();
    if (!cfSet.contains("compression")) {
      cfOptions.setCompressionType(c.compression().type);
    }
    if (!cfSet.contains("write_buffer_size")) {
      long perCf = Math.max(1L << 20, Math.min(64L << 20, c.writeBufferBytes() / 4));
      cfOptions.setWriteBufferSize(perCf);
    }
    if (!cfSet.contains("max_write_buffer_number")) {
      cfOptions.setMaxWriteBufferNumber(c.maxWriteBufferNumber());
    }
  }
}
