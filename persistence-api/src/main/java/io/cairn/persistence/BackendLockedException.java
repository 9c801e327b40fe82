package io.cairn.persistence;

/**
 * The data directory is held by another backend instance, in this process or another. Nothing was
 * opened and nothing was touched. The message names the directory and, where known, the holder.
 */
public class BackendLockedException extends PersistenceException {
  private static final long serialVersionUID = 1L;

  public BackendLockedException(String message) {
    super(message);
  }

  public BackendLockedException(String message, Throwable cause) {
    super(message, cause);
  }
}
