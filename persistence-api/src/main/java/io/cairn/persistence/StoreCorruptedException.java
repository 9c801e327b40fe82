package io.cairn.persistence;

/**
 * Stored data failed a checksum or structural check. The corrupt data is never returned as if it
 * were valid. The message names the file or store and suggests {@code cairn verify} and restoring
 * from a backup (or {@code on-corruption = quarantine} for cache-only backends).
 */
public class StoreCorruptedException extends PersistenceException {
  private static final long serialVersionUID = 1L;

  public StoreCorruptedException(String message) {
    super(message);
  }

  public StoreCorruptedException(String message, Throwable cause) {
    super(message, cause);
  }
}
