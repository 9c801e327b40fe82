package io.cairn.persistence;

import java.util.function.LongSupplier;

/**
 * Lets the owner of a log (a queue, a route table, a Raft log, a service's own subsystem) declare
 * which records its recovery still needs, so that background log retention ({@code
 * maintenance.retention} of the backend) never removes them. Reached as {@code
 * backend.extension(RetentionFloors.class)} on a backend opened by a {@link PersistenceRegistry}
 * (present for every such backend, whatever its type).
 *
 * <p>Retention truncates a log only below the lowest floor registered for it: with a floor
 * registered, records at or above the floor stay even if the log is past its {@code max-records} or
 * {@code max-bytes}, and the run says so in its {@code retention} event ({@code held-by-floor}).
 * Retention applies only to logs named under {@code maintenance.retention}; a floor protects a log
 * against such a configuration (for example a queue's log named there by mistake).
 *
 * <p>Thread-safe. The supplier is called from the maintenance thread, so it must be cheap,
 * thread-safe and must not block; if it throws, retention leaves that log alone in that run and
 * counts a failure.
 */
public interface RetentionFloors {
  /**
   * Registers {@code lowestNeededOffset} for log {@code log}: retention keeps every record whose
   * offset is at least what it returns. Return {@code 0} (or {@link Long#MIN_VALUE}) to exclude the
   * log from retention altogether.
   *
   * <p>Registering the same supplier instance again for the same log has no further effect (so a
   * subsystem reopened many times with a constant, non-capturing supplier registers it once).
   *
   * @return removes this registration (idempotent); call it when the owner closes
   */
  Runnable register(String log, LongSupplier lowestNeededOffset);

  /** The lowest floor registered for {@code log} now, or {@link Long#MAX_VALUE} when none is. */
  long floor(String log);
}
