package io.cairn.persistence;

/**
 * A compare-and-set found a different version than the caller expected. Nothing was written. The
 * caller re-reads the entry and decides again.
 */
public class VersionConflictException extends PersistenceException {
  private static final long serialVersionUID = 1L;
  private final long expectedVersion;
  private final long actualVersion;

  public VersionConflictException(String where, long expectedVersion, long actualVersion) {
    super(
        "Version conflict at "
            + where
            + ": expected version "
            + expectedVersion
            + " but the store has "
            + actualVersion
            + (actualVersion == 0 ? " (absent)" : "")
            + "; nothing was written. Re-read the entry and retry.");
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }

  public long expectedVersion() {
    return expectedVersion;
  }

  /** The version the store holds now; 0 when the key is absent or expired. */
  public long actualVersion() {
    return actualVersion;
  }
}
