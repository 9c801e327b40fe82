package io.cairn.persistence;

/**
 * A compare-and-set found a different version than the caller expected. Nothing was written. The
 * caller re-reads the entry and decides again.
 */
public class VersionConflictException extends PersistenceException {
  private static final long serialVersionUID = 1L;
  private final long expectedVersion;
  private final long actualVersion;

  /**
   * @param where the store and key, e.g. from {@link #where(String, String, byte[])}
   */
  public VersionConflictException(String where, long expectedVersion, long actualVersion) {
    this(where, expectedVersion, actualVersion, null);
  }

  /**
   * The one wording of a compare-and-set or compare-and-delete conflict, for every backend (the
   * registry rewords backends' conflicts into it).
   *
   * @param where the store and key, e.g. from {@link #where(String, String, byte[])}
   * @param cause the backend's own exception, or {@code null}
   */
  public VersionConflictException(
      String where, long expectedVersion, long actualVersion, Throwable cause) {
    super(
        "Version conflict at "
            + where
            + ": expected version "
            + expectedVersion
            + " but the store has "
            + actualVersion
            + (actualVersion == 0 ? " (absent)" : "")
            + "; nothing was written. Re-read the entry and retry.",
        cause);
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }

  /**
   * How a conflict message names its place: {@code key 'o-1' (0x6f2d31) in key-value namespace
   * 'orders' of backend 'main'}.
   */
  public static String where(String backend, String namespace, byte[] key) {
    return "key "
        + io.cairn.persistence.spi.Bytes.toDisplay(key)
        + " in key-value namespace '"
        + namespace
        + "' of backend '"
        + backend
        + "'";
  }

  public long expectedVersion() {
    return expectedVersion;
  }

  /** The version the store holds now; 0 when the key is absent or expired. */
  public long actualVersion() {
    return actualVersion;
  }
}
