package io.cairn.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValueFactory;
import io.cairn.persistence.BackendConfigValidator;
import io.cairn.persistence.BackendLockedException;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.DataDirectory;
import io.cairn.persistence.spi.EventType;
import io.cairn.persistence.spi.Events;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * What every {@code cairn} subcommand shares, so each command class states only its own work:
 *
 * <ul>
 *   <li><b>Reading</b> ({@link #openForReading}): opens the configured backends without waiting for
 *       a lock; if another process (a running service) holds one, opens the backends whose data
 *       exists with {@code read-only = true} instead (SQLite: a query-only connection on the WAL
 *       database; RocksDB: a secondary instance), says so on stderr, and never disturbs the owner.
 *       So {@code inspect}, {@code verify}, {@code backup} and the read commands work beside a live
 *       service; when nobody holds the lock they open normally (with the full open checks).
 *   <li><b>Writing</b> ({@link #openForWriting}): takes the lock, waiting up to {@code
 *       --lock-timeout} (or each backend's {@code lock-timeout}); then {@link
 *       BackendLockedException} names the holder's pid and host, and the command exits {@value
 *       CairnCommand#UNAVAILABLE}.
 *   <li><b>Destructive</b> commands call {@link #requireYes} first (exit {@value
 *       CairnCommand#USAGE} without {@code --yes}).
 *   <li><b>Progress</b> ({@link #progress}): a progress bar with rate and ETA on a terminal, plain
 *       lines otherwise and with {@code --json}; always on stderr, so stdout stays parseable.
 * </ul>
 *
 * Exit codes are {@link CairnCommand}'s: 0 ok, 1 problems in data, 2 usage or configuration, 3
 * backend locked or unavailable; throw the library's exceptions and {@link
 * CairnCommand#exitCodeFor} maps them.
 */
final class Cli {
  /** Backend types whose reference.conf has {@code read-only} and {@code lock-timeout}. */
  private static final Set<String> LOCKING_TYPES = Set.of("sqlite", "rocksdb");

  private Cli() {}

  /**
   * Opens every configured backend for reading; see the class comment. {@code err} gets one line
   * per backend opened read-only.
   */
  static PersistenceRegistry openForReading(Config config, PrintWriter err) {
    Config noWait = forEachLocking(config, (name, c) -> set(c, name, "lock-timeout", "0s"));
    try {
      return PersistenceRegistry.open(noWait);
    } catch (BackendLockedException locked) {
      Map<String, Path> dirs = BackendConfigValidator.dataDirectories(config, null);
      Config readOnly =
          forEachLocking(
              config,
              (name, c) -> {
                Path dir = dirs.get(name);
                if (dir == null || !VerifyCommand.hasData(dir)) {
                  return c;
                }
                err.println(
                    "cairn: backend '"
                        + name
                        + "' is "
                        + DataDirectory.recordedHolder(dir)
                            .map(h -> "held by " + h)
                            .orElse("locked by another process")
                        + "; reading it read-only beside that process");
                return set(c, name, DataDirectory.READ_ONLY, true);
              });
      err.flush();
      return PersistenceRegistry.open(readOnly);
    }
  }

  /**
   * Opens every configured SQLite and RocksDB backend that holds data with {@code read-only =
   * true}, whether or not another process holds its lock, so a reader that runs for long ({@code
   * log tail --follow}) never keeps the service from starting or writing; other backends open as
   * usual.
   */
  static PersistenceRegistry openReadOnly(Config config) {
    Map<String, Path> dirs = BackendConfigValidator.dataDirectories(config, null);
    return PersistenceRegistry.open(
        forEachLocking(
            config,
            (name, c) -> {
              Path dir = dirs.get(name);
              return dir == null || !VerifyCommand.hasData(dir)
                  ? c
                  : set(c, name, DataDirectory.READ_ONLY, true);
            }));
  }

  /**
   * Opens every configured backend for writing: waits for each lock up to {@code lockTimeout} (or
   * the backend's own {@code lock-timeout} when null).
   *
   * @throws BackendLockedException naming the holder when the wait ends (exit 3)
   */
  static PersistenceRegistry openForWriting(Config config, Duration lockTimeout) {
    if (lockTimeout == null) {
      return PersistenceRegistry.open(config);
    }
    String t = lockTimeout.toMillis() + "ms";
    return PersistenceRegistry.open(forEachLocking(config, (n, c) -> set(c, n, "lock-timeout", t)));
  }

  /**
   * Emits one event through the sink {@code cairn.events} of {@code config} configures, for a
   * command that changed a backend without opening it (restore): a registry of that section alone
   * is opened, so no backend is opened or locked, and closed again. Never fails the command (the
   * {@link Events} contract): a sink that cannot be opened is said on {@code err}.
   */
  static void emit(
      Config config, EventType type, String backend, Map<String, ?> fields, PrintWriter err) {
    if (!config.hasPath("cairn.events")) {
      return;
    }
    Config eventsOnly =
        ConfigFactory.empty().withValue("cairn.events", config.getValue("cairn.events"));
    try (PersistenceRegistry events = PersistenceRegistry.open(eventsOnly)) {
      events.events().emit(type, backend, fields);
    } catch (RuntimeException e) {
      err.println("cairn: could not emit the " + type.jsonName() + " event: " + e.getMessage());
      err.flush();
    }
  }

  /** Parses a {@code --lock-timeout} value such as {@code 30s}, {@code 2m} or {@code 500ms}. */
  static Duration duration(CommandSpec spec, String option, String value) {
    try {
      if (!value.strip().matches(".*[A-Za-z]")) {
        // HOCON would read a bare number as milliseconds: never guess the unit an operator meant
        throw new IllegalArgumentException("no unit");
      }
      Duration d = ConfigFactory.parseString("d = \"" + value + "\"").getDuration("d");
      if (d.isNegative()) {
        throw new IllegalArgumentException("negative");
      }
      return d;
    } catch (RuntimeException e) {
      throw new CommandLine.ParameterException(
          spec.commandLine(),
          option + " takes a duration with its unit, e.g. 30s, 2m or 500ms; got '" + value + "'");
    }
  }

  /** Refuses to go on without {@code --yes}: {@code what} says what would be destroyed. */
  static void requireYes(CommandSpec spec, boolean yes, String what) {
    if (!yes) {
      throw new CommandLine.ParameterException(
          spec.commandLine(), what + ". Add --yes to confirm (nothing was changed).");
    }
  }

  /** Progress for a long operation: a bar on a terminal, plain lines otherwise; on stderr. */
  static ProgressPrinter progress(CommandSpec spec, String label, boolean json) {
    boolean bar =
        !json && System.console() != null && System.getenv("CAIRN_NO_PROGRESS_BAR") == null;
    return new ProgressPrinter(spec.commandLine().getErr(), label, bar);
  }

  /**
   * {@code config} with backend {@code name} only (and as the default), so a command on one backend
   * neither opens nor waits for the others.
   */
  static Config only(Config config, String name) {
    String key = "cairn.backends." + ConfigUtil.quoteString(name);
    return config
        .withoutPath("cairn.backends")
        .withValue(key, config.getValue(key))
        .withValue("cairn.default-backend", ConfigValueFactory.fromAnyRef(name));
  }

  /** Whether the configuration names backend {@code name}. */
  static void requireBackend(Config config, String name) {
    String key = "cairn.backends." + ConfigUtil.quoteString(name);
    if (!config.hasPath(key)) {
      throw new ConfigurationException(
          "No backend '"
              + name
              + "' in the configuration; its backends: "
              + (config.hasPath("cairn.backends")
                  ? config.getObject("cairn.backends").keySet()
                  : Set.of()));
    }
  }

  private interface Edit {
    Config apply(String name, Config config);
  }

  private static Config forEachLocking(Config config, Edit edit) {
    if (!config.hasPath("cairn.backends")) {
      return config;
    }
    Config out = config;
    for (String name : config.getObject("cairn.backends").keySet()) {
      String typeKey = "cairn.backends." + ConfigUtil.quoteString(name) + ".type";
      String type = config.hasPath(typeKey) ? config.getString(typeKey) : "";
      if (LOCKING_TYPES.contains(type)) {
        out = edit.apply(name, out);
      }
    }
    return out;
  }

  private static Config set(Config c, String backend, String key, Object value) {
    return c.withValue(
        "cairn.backends." + ConfigUtil.quoteString(backend) + "." + key,
        ConfigValueFactory.fromAnyRef(value));
  }
}
