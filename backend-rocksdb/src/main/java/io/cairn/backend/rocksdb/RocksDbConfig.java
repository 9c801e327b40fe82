package io.cairn.backend.rocksdb;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.WALRecoveryMode;

/**
 * The type-specific settings of one RocksDB backend, read eagerly from the merged instance config
 * (see this module's {@code reference.conf} for every key and its meaning). Immutable.
 */
record RocksDbConfig(
    long memoryBudget,
    OnCorruption onCorruption,
    WalRecovery walRecovery,
    Duration sweeperInterval,
    String sweeperBatchKey,
    int snapshotChunkSize,
    int writeBufferPercent,
    int maxWriteBufferNumber,
    int maxBackgroundJobs,
    int bloomBitsPerKey,
    Compression compression,
    boolean strictCacheLimit,
    int maxOpenFiles,
    int maxConcurrentWrites,
    Properties dbOptions,
    Properties cfOptions) {

  /** Smallest memory budget accepted. */
  static final long MIN_MEMORY_BUDGET = 8L << 20;

  static final Set<String> ADVANCED_KEYS =
      Set.of(
          "write-buffer-percent",
          "max-write-buffer-number",
          "max-background-jobs",
          "bloom-bits-per-key",
          "compression",
          "strict-cache-limit",
          "max-open-files",
          "max-concurrent-writes",
          "db-options",
          "cf-options");

  /** Policy when corruption is found at open. */
  enum OnCorruption {
    FAIL,
    QUARANTINE
  }

  /**
   * Configuration names of RocksDB's WAL recovery modes. {@code auto} (the default) picks one per
   * durability, see {@link #resolve}.
   */
  enum WalRecovery {
    AUTO(null),
    POINT_IN_TIME(WALRecoveryMode.PointInTimeRecovery),
    ABSOLUTE_CONSISTENCY(WALRecoveryMode.AbsoluteConsistency),
    TOLERATE_CORRUPTED_TAIL_RECORDS(WALRecoveryMode.TolerateCorruptedTailRecords),
    SKIP_ANY_CORRUPTED_RECORDS(WALRecoveryMode.SkipAnyCorruptedRecords);

    final WALRecoveryMode mode;

    WalRecovery(WALRecoveryMode mode) {
      this.mode = mode;
    }

    /**
     * The mode used for {@code durability}. {@code auto} means:
     *
     * <ul>
     *   <li>{@code normal} and {@code full}: {@code tolerate-corrupted-tail-records}. A write is
     *       acknowledged only after its WAL record is complete in the file (handed to the OS, and
     *       fsynced under {@code full}), so after {@code kill -9} every acknowledged record is
     *       intact and only a record being written at the moment of the crash can be incomplete;
     *       that torn tail is an unacknowledged write and is dropped. Damage anywhere else (a
     *       flipped byte, a zeroed block in the middle) means acknowledged writes would be lost,
     *       and RocksDB refuses to open with a {@code Corruption} status, which Cairn reports as
     *       {@link io.cairn.persistence.StoreCorruptedException} naming the WAL file. {@code
     *       point-in-time} would instead cut the log at the damage and silently drop every later
     *       record, acknowledged or not; {@code absolute-consistency} would also refuse a torn
     *       tail, so a backend could not reopen after an ordinary crash mid-write.
     *   <li>{@code none}: the WAL is disabled, the mode is irrelevant; {@code point-in-time}.
     * </ul>
     *
     * The price under {@code normal}: after a power loss or OS crash (which {@code normal} does not
     * promise to survive) unsynced WAL pages may be lost out of order, and the open fails instead
     * of keeping the consistent prefix. The error says so; {@code wal-recovery-mode =
     * point-in-time} then opens with that prefix, accepting the loss knowingly.
     */
    WALRecoveryMode resolve(io.cairn.persistence.Durability durability) {
      if (mode != null) {
        return mode;
      }
      return durability == io.cairn.persistence.Durability.NONE
          ? WALRecoveryMode.PointInTimeRecovery
          : WALRecoveryMode.TolerateCorruptedTailRecords;
    }
  }

  /** Block compression choices. */
  enum Compression {
    NONE(CompressionType.NO_COMPRESSION),
    SNAPPY(CompressionType.SNAPPY_COMPRESSION),
    LZ4(CompressionType.LZ4_COMPRESSION),
    ZSTD(CompressionType.ZSTD_COMPRESSION);

    final CompressionType type;

    Compression(CompressionType type) {
      this.type = type;
    }
  }

  /**
   * Reads every RocksDB key of {@code s}, adding one problem per bad setting. Never throws for bad
   * settings; returns usable fallbacks so reading goes on.
   */
  static RocksDbConfig read(Settings s) {
    long budget = s.bytes("memory-budget", MIN_MEMORY_BUDGET, 256L << 20);
    OnCorruption onCorruption = s.oneOf("on-corruption", OnCorruption.class, OnCorruption.FAIL);
    WalRecovery wal = s.oneOf("wal-recovery-mode", WalRecovery.class, WalRecovery.AUTO);
    Duration sweep = s.duration("sweeper-interval", Duration.ZERO, Duration.ofMinutes(1));
    // known (reference.conf: null) but without effect since layout 3; warned about at open
    String sweepBatchKey = s.config().hasPath("sweeper-batch") ? s.pathOf("sweeper-batch") : null;
    long chunk = s.bytes("snapshot-chunk-size", 4096, 1L << 20);
    if (chunk > (64L << 20)) {
      s.problem("snapshot-chunk-size", "a size from 4KiB to 64MiB", String.valueOf(chunk));
      chunk = 1L << 20;
    }
    Settings adv = advanced(s);
    int wbPercent = adv.intBetween("write-buffer-percent", 5, 90, 25);
    int maxWb = adv.intBetween("max-write-buffer-number", 2, 64, 3);
    int jobs = adv.intBetween("max-background-jobs", 1, 256, 2);
    int bloom = adv.intBetween("bloom-bits-per-key", 0, 64, 10);
    Compression compression = adv.oneOf("compression", Compression.class, Compression.LZ4);
    boolean strict = adv.bool("strict-cache-limit", false);
    int maxOpen = adv.intBetween("max-open-files", -1, 1_000_000, 1000);
    if (maxOpen >= 0 && maxOpen < 20) {
      adv.problem("max-open-files", "-1 or at least 20", String.valueOf(maxOpen));
      maxOpen = 1000;
    }
    int maxWrites = maxConcurrentWrites(adv);
    Properties dbOptions = rawOptions(adv, "db-options");
    Properties cfOptions = rawOptions(adv, "cf-options");
    if (!dbOptions.isEmpty() || !cfOptions.isEmpty()) {
      NativeLibrary.load();
      if (!dbOptions.isEmpty()) {
        try (DBOptions parsed = DBOptions.getDBOptionsFromProps(dbOptions)) {
          if (parsed == null) {
            adv.problem("db-options", "DBOptions RocksDB accepts", dbOptions.toString());
          } else if (parsed.enablePipelinedWrite()) {
            // RocksDB refuses it only at open: it cannot be combined with atomic_flush, which
            // Cairn sets (a batch spans two column families and must flush whole at none)
            adv.problem(
                "db-options",
                "options Cairn can combine with atomic_flush (which it needs):"
                    + " enable_pipelined_write = true cannot be",
                dbOptions.toString());
          }
        } catch (IllegalArgumentException e) {
          adv.problem("db-options", "DBOptions RocksDB accepts", e.getMessage());
        }
      }
      if (!cfOptions.isEmpty()) {
        try (ColumnFamilyOptions parsed =
            ColumnFamilyOptions.getColumnFamilyOptionsFromProps(cfOptions)) {
          if (parsed == null) {
            adv.problem("cf-options", "ColumnFamilyOptions RocksDB accepts", cfOptions.toString());
          }
        } catch (IllegalArgumentException e) {
          adv.problem("cf-options", "ColumnFamilyOptions RocksDB accepts", e.getMessage());
        }
      }
    }
    return new RocksDbConfig(
        budget,
        onCorruption,
        wal,
        sweep,
        sweepBatchKey,
        (int) chunk,
        wbPercent,
        maxWb,
        jobs,
        bloom,
        compression,
        strict,
        maxOpen,
        maxWrites,
        dbOptions,
        cfOptions);
  }

  /**
   * The full path of {@code sweeper-batch} if the configuration sets it: the key of the layout-2
   * backend, whose own sweeper deleted that many entries per batch. The shared base's sweeper
   * purges in pages of its own size, so the value has no effect; the provider warns at open, naming
   * the key, instead of ignoring it silently.
   */
  java.util.Optional<String> deprecatedSweeperBatch() {
    return java.util.Optional.ofNullable(sweeperBatchKey);
  }

  /** Bytes of the budget given to memtables. */
  long writeBufferBytes() {
    return memoryBudget * writeBufferPercent / 100;
  }

  private static Settings advanced(Settings s) {
    Config c = s.config();
    List<ConfigProblem> problems = s.problems();
    if (!c.hasPath("advanced") || c.getValue("advanced").valueType() != ConfigValueType.OBJECT) {
      s.problem("advanced", "an object of advanced settings", "a missing or non-object value");
      // Read the fallbacks from an empty section whose own problems are discarded: the one
      // problem above already says what is wrong.
      return new Settings(
          com.typesafe.config.ConfigFactory.empty(), s.pathOf("advanced"), new ArrayList<>());
    }
    Settings adv = new Settings(c.getConfig("advanced"), s.pathOf("advanced"), problems);
    adv.rejectUnknownKeys(ADVANCED_KEYS, "rocksdb advanced");
    return adv;
  }

  /**
   * {@code max-concurrent-writes}: {@code auto} ({@link WriteAdmission#auto()}), {@code unlimited}
   * (0) or a number from 1 to 4096; anything else is a problem, never a guess.
   */
  private static int maxConcurrentWrites(Settings adv) {
    String key = "max-concurrent-writes";
    String expected = "auto, unlimited or a whole number from 1 to 4096";
    String v = adv.string(key, "auto").trim();
    if (v.equals("auto")) {
      return WriteAdmission.auto();
    }
    if (v.equals("unlimited")) {
      return 0;
    }
    try {
      int n = Integer.parseInt(v);
      if (n >= 1 && n <= 4096) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    adv.problem(key, expected, "'" + v + "'");
    return WriteAdmission.auto();
  }

  private static Properties rawOptions(Settings adv, String key) {
    Properties props = new Properties();
    Config c = adv.config();
    try {
      if (!c.hasPath(key)) {
        return props;
      }
      if (c.getValue(key).valueType() != ConfigValueType.OBJECT) {
        adv.problem(key, "an object of RocksDB option names to values", "a non-object value");
        return props;
      }
      List<String> bad = new ArrayList<>();
      for (Map.Entry<String, ConfigValue> e : c.getObject(key).entrySet()) {
        Object v = e.getValue().unwrapped();
        if (v instanceof Map || v instanceof List || v == null) {
          bad.add(e.getKey());
        } else {
          props.setProperty(e.getKey(), String.valueOf(v));
        }
      }
      if (!bad.isEmpty()) {
        adv.problem(key, "plain option values (string, number or boolean)", "values for " + bad);
      }
    } catch (ConfigException e) {
      adv.problem(key, "an object of RocksDB option names to values", e.getMessage());
    }
    return props;
  }
}
