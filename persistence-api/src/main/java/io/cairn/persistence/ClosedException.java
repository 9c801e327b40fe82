package io.cairn.persistence;

/**
 * Something was used after it was closed: a {@link PersistenceRegistry}, a backend or a store of it
 * ({@link BackendClosedException}), or an object a subsystem built on them (a queue, a cache, a
 * route table). Catch this type to handle every "used after close" alike; the message names what
 * was closed.
 */
public class ClosedException extends PersistenceException {
  private static final long serialVersionUID = 1L;

  /**
   * @param what what was closed, as a noun phrase for the message, e.g. {@code
   *     "PersistenceRegistry"} or {@code "queue 'orders'"}
   * @param remedy what the caller can do, one sentence, e.g. {@code "open a new registry"}
   */
  public ClosedException(String what, String remedy) {
    super(capitalize(what) + " is closed; " + remedy);
  }

  private static String capitalize(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }
}
