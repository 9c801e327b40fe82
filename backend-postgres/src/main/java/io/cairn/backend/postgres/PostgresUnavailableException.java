package io.cairn.backend.postgres;

import io.cairn.persistence.StorageEngineException;

/**
 * The PostgreSQL server could not be reached, refused new connections (starting up, shutting down,
 * too many clients) or dropped the connection during an operation. Retriable: the same call can be
 * made again once the server is back, and the backend resumes by itself (the pool opens new
 * connections); nothing needs reopening.
 *
 * <p>What happened to the failed call: if it failed before the server received a commit, nothing of
 * it was written. If the connection broke while a commit was in flight, the commit may or may not
 * have taken effect, exactly as if the process had crashed just before the call returned (see
 * {@link io.cairn.persistence.KeyValueStore}, "Durability"); the message says which case applies
 * when the driver can tell.
 */
public final class PostgresUnavailableException extends StorageEngineException {
  private static final long serialVersionUID = 1L;

  PostgresUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Always true: retrying after the server is back is safe (see the class comment). */
  public boolean retriable() {
    return true;
  }
}
