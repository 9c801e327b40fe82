package io.cairn.tck.reliability;

/** How a backend handled one {@link Damage} case of the {@link CorruptionMatrix}. */
public enum Outcome {
  /**
   * The damage was reported: a typed {@code PersistenceException} on open or on a read, or {@code
   * verify()} named a problem, and no read returned a wrong value.
   */
  DETECTED,
  /**
   * Every read returned exactly the model (values, versions, expiry, log records, snapshots),
   * {@code verify()} was healthy and nothing failed: the damage hit bytes the backend does not use
   * (or repaired without loss).
   */
  INTACT,
  /**
   * Kill variant only: every acknowledged write is intact, {@code verify()} is healthy and nothing
   * failed, but the write that was in flight at the kill (issued, never acknowledged) is present in
   * the undamaged copy and absent here: the backend dropped a damaged tail, and only unacknowledged
   * data. Losing an acknowledged write, or a hole before a surviving write, is never RECOVERED.
   */
  RECOVERED,
  /**
   * Data was lost without an error, but the backend's documentation states that this damage cannot
   * be detected, with the reason (supplied with {@code CorruptionMatrix.Builder#documented}).
   */
  DOCUMENTED,
  /**
   * A read returned a wrong value (a different value, version or expiry, a deleted or unknown
   * entry, a log record or snapshot that differs), or data of the model is missing while open,
   * reads and {@code verify()} all succeeded (silent loss), or the damage surfaced as an exception
   * that is not a {@code PersistenceException}, or the case did not finish in time.
   */
  FAILED
}
