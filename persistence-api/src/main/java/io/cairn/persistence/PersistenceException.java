package io.cairn.persistence;

/**
 * Root of every exception Cairn throws. Unchecked: storage failures are rarely recoverable at the
 * call site, and a service decides at its edge what to do with them.
 *
 * <p>Every message says what failed, where (backend, store, key or file) and what the caller can
 * do. Each backend translates its engine's errors into this hierarchy in exactly one place, so an
 * engine exception never escapes a Cairn call unwrapped.
 */
public class PersistenceException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public PersistenceException(String message) {
    super(message);
  }

  public PersistenceException(String message, Throwable cause) {
    super(message, cause);
  }
}
