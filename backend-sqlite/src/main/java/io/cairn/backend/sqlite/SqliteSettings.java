package io.cairn.backend.sqlite;

import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The type-specific settings of one SQLite backend, read from {@code cairn.backend-defaults.sqlite}
 * merged with the instance entry. Every key is documented in this module's {@code reference.conf}.
 *
 * @param onCorruption policy when {@code cairn.db} fails its open-time checks
 * @param openCheck how much of the file is checked at open
 * @param busyTimeout SQLite busy timeout per connection
 * @param cacheSizeBytes page cache per connection
 * @param mmapSizeBytes PRAGMA mmap_size of each reader connection; 0 = reads through read()
 * @param walAutocheckpointPages PRAGMA wal_autocheckpoint
 * @param journalSizeLimitBytes PRAGMA journal_size_limit
 * @param readers reader connections
 * @param maxBatch most operations per group commit
 * @param sweeperInterval period of the TTL sweeper; zero disables it
 * @param sweeperBatchKey the full path of the deprecated {@code sweeper-batch} key when the
 *     configuration sets it, else null (the base's sweeper purges in its own pages; see {@link
 *     #deprecatedSweeperBatch})
 * @param snapshotChunkBytes snapshot chunk size
 * @param onWalLoss policy when the WAL check finds committed transactions SQLite would drop
 */
record SqliteSettings(
    OnCorruption onCorruption,
    OpenCheck openCheck,
    Duration busyTimeout,
    long cacheSizeBytes,
    long mmapSizeBytes,
    int walAutocheckpointPages,
    long journalSizeLimitBytes,
    int readers,
    int maxBatch,
    Duration sweeperInterval,
    String sweeperBatchKey,
    int snapshotChunkBytes,
    OnWalLoss onWalLoss) {

  /** {@code on-wal-loss}. */
  enum OnWalLoss {
    FAIL,
    ACCEPT
  }

  /** {@code on-corruption}. */
  enum OnCorruption {
    FAIL,
    QUARANTINE
  }

  /** {@code open-check}. */
  enum OpenCheck {
    /** Header, WAL and schema checks only (constant time). */
    HEADER,
    /** As {@link #HEADER}, then {@code PRAGMA quick_check} on a background thread after open. */
    BACKGROUND,
    /**
     * As {@link #HEADER}, then {@code PRAGMA quick_check} before open returns (reads every page).
     */
    QUICK
  }

  private static final long MAX_CHUNK_BYTES = 64L << 20;

  /**
   * SQLite's default {@code SQLITE_MAX_MMAP_SIZE} on Linux (0x7fff0000), which sqlite-jdbc builds
   * with: a larger {@code mmap_size} would be cut to it without a word.
   */
  static final long MAX_MMAP_BYTES = 0x7fff0000L;

  /** Reads every key eagerly, adding one problem per bad setting to {@code s}. */
  static SqliteSettings read(Settings s) {
    long chunk = s.bytes("snapshot-chunk-size", 4096, 1L << 20);
    if (chunk > MAX_CHUNK_BYTES) {
      s.problem("snapshot-chunk-size", "a size from 4KiB to 64MiB", chunk + " bytes");
      chunk = 1L << 20;
    }
    long mmap = s.bytes("mmap-size", 0, 1L << 30);
    if (mmap > MAX_MMAP_BYTES) {
      s.problem("mmap-size", "a size from 0B (off) to 2047MiB (SQLite's limit)", mmap + " bytes");
      mmap = 1L << 30;
    }
    return new SqliteSettings(
        s.oneOf("on-corruption", OnCorruption.class, OnCorruption.FAIL),
        s.oneOf("open-check", OpenCheck.class, OpenCheck.BACKGROUND),
        s.duration("busy-timeout", Duration.ZERO, Duration.ofSeconds(5)),
        s.bytes("cache-size", 64 * 1024, 18L << 20),
        mmap,
        s.intBetween("wal-autocheckpoint-pages", 1, 1_000_000, 1000),
        s.bytes("journal-size-limit", 0, 64L << 20),
        s.intBetween("readers", 1, 64, 8),
        s.intBetween("max-batch", 1, 100_000, 256),
        s.duration("sweeper-interval", Duration.ZERO, Duration.ofSeconds(30)),
        s.config().hasPath("sweeper-batch") ? s.pathOf("sweeper-batch") : null,
        (int) chunk,
        s.oneOf("on-wal-loss", OnWalLoss.class, OnWalLoss.FAIL));
  }

  /**
   * The full path of {@code sweeper-batch} if the configuration sets it: the key of the SQLite
   * backend before schema v5, when its own sweeper deleted that many rows per transaction. The
   * shared base's sweeper purges in pages of its own size, so the value has no effect; the provider
   * warns at open, naming the key, instead of ignoring it silently.
   */
  java.util.Optional<String> deprecatedSweeperBatch() {
    return java.util.Optional.ofNullable(sweeperBatchKey);
  }

  /**
   * Reads the already validated settings at open.
   *
   * @throws io.cairn.persistence.ConfigurationException if they are not valid after all
   */
  static SqliteSettings of(com.typesafe.config.Config config, String path) {
    List<ConfigProblem> problems = new ArrayList<>();
    SqliteSettings settings = read(new Settings(config, path, problems));
    Settings.throwIfAny(problems);
    return settings;
  }
}
