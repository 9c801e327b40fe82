package io.cairn.queue;

import com.typesafe.config.Config;
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
  private static final Settings.NamedSection SECTION =
      new Settings.NamedSection(
          QUEUES,
          DEFAULTS,
          "queue",
          "{ backend = main, visibility-timeout = 30s }",
          MAX_NAME_LENGTH,
          true);

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
    Settings s = SECTION.read(root, name, problems);
    if (s == null) {
      return null;
    }
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
}
