package io.cairn.persistence.spi;

import java.util.Map;

/**
 * The structured event sink: operational events (recovery, corruption, quarantine, lock waits,
 * compaction, retention, size warnings, backup, restore, migration) written as one JSON object per
 * line to a file or to an SLF4J logger, as {@code cairn.events} configures; off by default. Reached
 * from {@link BackendContext#events()} (backends, also third-party ones), from {@code
 * PersistenceRegistry.events()}, and from a registry-opened backend as {@code
 * backend.extension(Events.class)} (subsystems that hold only the backend).
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li><b>No keys or values.</b> Fields name things (backend, store, file, offsets, counts,
 *       durations, reasons); a stored key, value, payload or snapshot byte never goes into an
 *       event. Field values must be {@link String}, {@link Number}, {@link Boolean} or null;
 *       anything else (a {@code byte[]} above all) throws {@link IllegalArgumentException}, so raw
 *       bytes cannot slip in by accident. Do not put a key into a string field either.
 *   <li><b>Never fails the caller.</b> {@link #emit} does not throw for a failing sink (a full
 *       disk, a closed file): the sink logs the failure once per streak and counts it; the
 *       operation that emitted goes on.
 *   <li><b>Thread-safe</b>; each event is written whole, as one line, in emit order per thread.
 *   <li>Cheap when off: check {@link #enabled()} before building costly fields.
 * </ul>
 */
public interface Events {
  /** A sink that discards every event. */
  Events NONE =
      new Events() {
        @Override
        public boolean enabled() {
          return false;
        }

        @Override
        public void emit(EventType type, String backend, Map<String, ?> fields) {
          check(fields);
        }
      };

  /** Whether events go anywhere. */
  boolean enabled();

  /**
   * Records one event.
   *
   * @param type what happened
   * @param backend the backend it concerns, or null when none (a migration names its two backends
   *     in fields)
   * @param fields type-specific fields, in the order given (use a {@link java.util.LinkedHashMap}
   *     or {@link Map#of} for a few); names are lower-case with dashes
   * @throws IllegalArgumentException if a field value is not a string, number, boolean or null
   */
  void emit(EventType type, String backend, Map<String, ?> fields);

  /**
   * Emits a {@link EventType#RECOVERY} event for a subsystem that recovered its state from {@code
   * backend}'s stores, through {@code backend.extension(Events.class)} (nothing when the backend
   * was not opened by a registry or events are off). Never throws: a subsystem's recovery must not
   * fail for its event.
   *
   * @param subsystem e.g. {@code queue}, {@code route-table}
   * @param name the queue's or table's name
   * @param recordsReplayed records read back to rebuild the state (what each subsystem counts is in
   *     docs/operations.md), or -1 if not counted
   */
  static void recovered(
      io.cairn.persistence.StorageBackend backend,
      String subsystem,
      String name,
      long durationMillis,
      long recordsReplayed) {
    try {
      Events ev = backend.extension(Events.class).orElse(NONE);
      if (ev.enabled()) {
        Map<String, Object> f = new java.util.LinkedHashMap<>();
        f.put("subsystem", subsystem);
        f.put("name", name);
        f.put("duration-ms", durationMillis);
        f.put("records-replayed", recordsReplayed);
        ev.emit(EventType.RECOVERY, backend.name(), f);
      }
    } catch (RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(Events.class)
          .warn("Could not emit the recovery event of {} '{}': {}", subsystem, name, e.toString());
    }
  }

  /** Checks the field rule of {@link #emit}; for implementations. */
  static void check(Map<String, ?> fields) {
    for (Map.Entry<String, ?> e : fields.entrySet()) {
      Object v = e.getValue();
      if (v != null && !(v instanceof String || v instanceof Number || v instanceof Boolean)) {
        throw new IllegalArgumentException(
            "Event field '"
                + e.getKey()
                + "' is a "
                + v.getClass().getSimpleName()
                + "; event fields must be strings, numbers or booleans, never stored bytes");
      }
    }
  }
}
