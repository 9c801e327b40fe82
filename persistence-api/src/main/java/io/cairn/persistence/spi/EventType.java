package io.cairn.persistence.spi;

import java.util.Locale;

/**
 * The kinds of structured operational event ({@link Events}). Each constant's {@link #jsonName()}
 * is the {@code "type"} field of the JSON line; the fields of each type, what it means and what to
 * do are documented in {@code docs/operations.md} ("Events"). New types may be added; a consumer
 * must ignore types it does not know.
 */
public enum EventType {
  /** A backend opened, or a subsystem (queue, route table) recovered its state from its stores. */
  RECOVERY,
  /** Damage was detected: a checksum or invariant failed on read, or {@code verify} found it. */
  CORRUPTION,
  /** Damaged engine files were moved aside into a {@code corrupt-*} directory. */
  QUARANTINE,
  /** Opening a data directory is waiting for a lock another backend or process holds. */
  LOCK_WAIT,
  /** Opening a data directory gave up waiting for the lock ({@code lock-timeout}). */
  LOCK_TIMEOUT,
  /** The engine's files were compacted (by maintenance or on request). */
  COMPACTION,
  /** Log retention removed records from the head of a log. */
  RETENTION,
  /** A backend's files crossed its {@code maintenance.size-warning} threshold (up or down). */
  SIZE_WARNING,
  /** A background maintenance task failed; it is retried with backoff. */
  MAINTENANCE_FAILURE,
  /** A backup (checkpoint) of a backend was taken. */
  BACKUP,
  /** A backup was restored into a data directory. */
  RESTORE,
  /** The stores of one backend were copied into another. */
  MIGRATION;

  /** The name in the JSON line: lower case with dashes, e.g. {@code lock-wait}. */
  public String jsonName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
