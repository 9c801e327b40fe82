package io.cairn.persistence;

import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.cairn.persistence.spi.ArgumentChecks;
import io.cairn.persistence.spi.Settings;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The validated {@code maintenance} section of one backend (documented key by key in
 * persistence-api's reference.conf). A duration or size of {@code 0} switches its task off.
 */
record MaintenanceSettings(
    Duration ttlSweepInterval,
    Duration retentionInterval,
    Map<String, LogRetention> retention,
    Duration compactInterval,
    long compactMinSize,
    int compactGrowthPercent,
    long sizeWarning,
    Duration checkInterval,
    Duration retryBackoff) {

  static final String SECTION = "maintenance";

  /** Limits of one log; 0 (or a zero duration) = no limit of that kind. */
  record LogRetention(long maxRecords, long maxBytes, Duration maxAge) {}

  /** Every task off: what a backend without a {@code maintenance} section gets. */
  static final MaintenanceSettings OFF =
      new MaintenanceSettings(
          Duration.ZERO,
          Duration.ZERO,
          Map.of(),
          Duration.ZERO,
          0,
          100,
          0,
          Duration.ZERO,
          Duration.ofSeconds(30));

  private static final Set<String> KEYS =
      Set.of(
          "ttl-sweep-interval",
          "retention-interval",
          "retention",
          "compact-interval",
          "compact-min-size",
          "compact-growth-percent",
          "size-warning",
          "check-interval",
          "retry-backoff");
  private static final Set<String> LOG_KEYS = Set.of("max-records", "max-bytes", "max-age");

  /** Reads {@code maintenance} of a backend's merged settings; problems go to {@code s}. */
  static MaintenanceSettings read(Settings backend) {
    if (!backend.config().hasPath(SECTION)) {
      return OFF;
    }
    if (backend.config().getValue(SECTION).valueType() != ConfigValueType.OBJECT) {
      backend.problem(SECTION, "an object { ttl-sweep-interval = 10m, ... }", "not an object");
      return OFF;
    }
    String path = backend.pathOf(SECTION);
    Settings s = new Settings(backend.config().getConfig(SECTION), path, backend.problems());
    s.rejectUnknownKeys(KEYS, "maintenance");
    Map<String, LogRetention> logs = new TreeMap<>();
    if (s.config().hasPath("retention")) {
      ConfigValue v = s.config().root().get("retention");
      if (v.valueType() != ConfigValueType.OBJECT) {
        s.problem(
            "retention",
            "an object of logs: { \"events\" { max-records = 1000000 } }",
            "a " + v.valueType().name().toLowerCase(Locale.ROOT));
      } else {
        for (Map.Entry<String, ConfigValue> e : s.config().getObject("retention").entrySet()) {
          String log = e.getKey();
          String logPath = ConfigUtil.joinPath("retention", log);
          if (e.getValue().valueType() != ConfigValueType.OBJECT) {
            s.problem(
                logPath,
                "an object { max-records = ..., max-bytes = ... }",
                "a " + e.getValue().valueType().name().toLowerCase(Locale.ROOT));
            continue;
          }
          try {
            ArgumentChecks.check("log", log);
          } catch (IllegalArgumentException bad) {
            s.problem(
                logPath, "a log name of 1-128 characters from [A-Za-z0-9._-]", "'" + log + "'");
            continue;
          }
          Settings l = new Settings(s.config().getConfig(logPath), s.pathOf(logPath), s.problems());
          l.rejectUnknownKeys(LOG_KEYS, "log retention");
          long maxRecords = l.config().hasPath("max-records") ? longAtLeast(l, "max-records") : 0;
          long maxBytes = l.config().hasPath("max-bytes") ? l.bytes("max-bytes", 0, 0) : 0;
          Duration maxAge =
              l.config().hasPath("max-age")
                  ? l.duration("max-age", Duration.ZERO, Duration.ZERO)
                  : Duration.ZERO;
          if (maxRecords == 0 && maxBytes == 0 && maxAge.isZero()) {
            l.problem(
                "max-records",
                "max-records, max-bytes or max-age above 0 for log '"
                    + log
                    + "' (an entry without a limit does nothing)",
                "neither");
            continue;
          }
          logs.put(log, new LogRetention(maxRecords, maxBytes, maxAge));
        }
      }
    }
    Duration retentionInterval = s.duration("retention-interval", Duration.ZERO, Duration.ZERO);
    if (!logs.isEmpty() && retentionInterval.isZero()) {
      s.problem("retention-interval", "a period above 0 when logs are listed under retention", "0");
    }
    MaintenanceSettings m =
        new MaintenanceSettings(
            s.duration("ttl-sweep-interval", Duration.ZERO, Duration.ZERO),
            retentionInterval,
            Map.copyOf(logs),
            s.duration("compact-interval", Duration.ZERO, Duration.ZERO),
            s.bytes("compact-min-size", 0, 0),
            s.intBetween("compact-growth-percent", 0, 10_000, 100),
            s.bytes("size-warning", 0, 0),
            s.duration("check-interval", Duration.ZERO, Duration.ZERO),
            s.duration("retry-backoff", Duration.ofMillis(1), Duration.ofSeconds(30)));
    if ((m.compactMinSize > 0 || m.sizeWarning > 0) && m.checkInterval.isZero()) {
      s.problem(
          "check-interval",
          "a period above 0 when compact-min-size or size-warning is set (sizes are measured on it)",
          "0");
    }
    return m;
  }

  private static long longAtLeast(Settings l, String key) {
    try {
      long v = l.config().getLong(key);
      if (v >= 0) {
        return v;
      }
    } catch (com.typesafe.config.ConfigException e) {
      // reported below
    }
    l.problem(
        key,
        "a record count of 0 or more",
        Settings.describe(l.pathOf(key), l.config().getValue(key)));
    return 0;
  }

  /** Whether any task is on, i.e. whether a maintenance thread is needed. */
  boolean anyTask() {
    return !ttlSweepInterval.isZero()
        || !retention.isEmpty()
        || !compactInterval.isZero()
        || compactMinSize > 0
        || sizeWarning > 0;
  }
}
