package io.cairn.queue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.Settings;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * The validated settings of one queue, read from {@code cairn.queues.<name>} over {@code
 * cairn.queue-defaults}. Immutable.
 *
 * @param name queue name
 * @param backend backend name, already resolved (never empty)
 * @param visibilityTimeout lease length of a delivery
 * @param maxAttempts deliveries before dead-lettering, at least 1
 * @param backoffInitial default nack delay after the first delivery
 * @param backoffMax cap of the default nack delay
 * @param prefetch records read from the log at a time
 * @param truncateEvery finished head messages that trigger log truncation
 */
record QueueSettings(
    String name,
    String backend,
    Duration visibilityTimeout,
    int maxAttempts,
    Duration backoffInitial,
    Duration backoffMax,
    int prefetch,
    int truncateEvery) {
  static final String QUEUES = "cairn.queues";
  static final String DEFAULTS = "cairn.queue-defaults";
  static final int MAX_NAME_LENGTH = 100;

  /** Default nack delay before the delivery numbered {@code attempt} (1-based) is retried. */
  Duration backoff(int attempt) {
    long base = backoffInitial.toMillis();
    int shift = Math.max(0, Math.min(attempt - 1, 40));
    long millis = base << shift;
    if (millis < 0 || (shift > 0 && (millis >> shift) != base)) {
      millis = Long.MAX_VALUE;
    }
    return Duration.ofMillis(Math.min(millis, backoffMax.toMillis()));
  }

  /** Names of the queues configured under {@code cairn.queues}, sorted; empty if none. */
  static Set<String> configuredNames(Config root) {
    return Settings.namedSections(root, QUEUES);
  }

  /**
   * Reads and checks every queue under {@code cairn.queues}, adding one problem per bad setting.
   */
  static void validateAll(Config root, List<ConfigProblem> problems) {
    Settings.readNamedSections(
        root, QUEUES, "queues such as orders { backend = main }", problems, QueueSettings::read);
  }

  /**
   * Reads queue {@code name}, adding problems for bad settings. Returns settings usable even when
   * problems were added (fallback values), or null when there is no such queue (a problem is
   * added).
   */
  static QueueSettings read(Config root, String name, List<ConfigProblem> problems) {
    String path = QUEUES + "." + quote(name);
    ConfigObject value =
        Settings.namedEntry(
            root, QUEUES, name, "queue", "{ backend = main, visibility-timeout = 30s }", problems);
    if (value == null) {
      return null;
    }
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*") || name.length() > MAX_NAME_LENGTH) {
      problems.add(
          new ConfigProblem(
              path,
              Settings.origin(value.origin()),
              "a queue name of 1-" + MAX_NAME_LENGTH + " characters from [A-Za-z0-9._-]",
              "'" + name + "'"));
    }
    Config defaults = root.hasPath(DEFAULTS) ? root.getConfig(DEFAULTS) : ConfigFactory.empty();
    Config entry = value.toConfig();
    new Settings(entry, path, problems).rejectUnknownKeys(Settings.keysOf(defaults), "queue");
    Settings s = new Settings(entry.withFallback(defaults), path, problems);
    String backend = backendName(root, s);
    Duration visibility =
        s.duration("visibility-timeout", Duration.ofMillis(1), Duration.ofSeconds(30));
    int maxAttempts = s.intBetween("max-attempts", 1, 1_000_000, 5);
    Duration backoffInitial = s.duration("backoff-initial", Duration.ZERO, Duration.ofSeconds(1));
    Duration backoffMax = s.duration("backoff-max", Duration.ZERO, Duration.ofMinutes(5));
    if (backoffMax.compareTo(backoffInitial) < 0) {
      s.problem(
          "backoff-max",
          "a duration at least backoff-initial (" + Settings.human(backoffInitial) + ")",
          Settings.human(backoffMax));
    }
    int prefetch = s.intBetween("prefetch", 1, 65_536, 256);
    int truncateEvery = s.intBetween("truncate-every", 1, 10_000_000, 1024);
    return new QueueSettings(
        name,
        backend,
        visibility,
        maxAttempts,
        backoffInitial,
        backoffMax,
        prefetch,
        truncateEvery);
  }

  /** Resolves {@code backend} (empty: the default backend) and checks it is configured. */
  private static String backendName(Config root, Settings s) {
    return s.backendReference(root, "backend");
  }

  private static String quote(String key) {
    return key.matches("[A-Za-z0-9_-]+") ? key : "\"" + key + "\"";
  }
}
