package io.cairn.persistence;

/**
 * The engine underneath failed in a way none of the more specific exceptions describe: an I/O
 * error, a full disk, a driver failure. The message carries the engine's own words and names the
 * backend and store. Whether the failed write took effect is stated by the operation's contract
 * (for a single write: it did not, or it is indistinguishable from a crash before the call).
 */
public class StorageEngineException extends PersistenceException {
  private static final long serialVersionUID = 1L;

  public StorageEngineException(String message, Throwable cause) {
    super(message, cause);
  }
}
