package io.cairn.persistence;

/**
 * A write reached a backend opened with {@code read-only = true} (for example by {@code cairn
 * inspect} beside a running service). Nothing was written. The message names the backend and the
 * option; open the backend without {@code read-only} (which takes the data directory's lock) to
 * write.
 */
public class ReadOnlyBackendException extends PersistenceException {
  private static final long serialVersionUID = 1L;

  public ReadOnlyBackendException(String message) {
    super(message);
  }
}
