package io.cairn.persistence;

/** An operation was attempted on a backend, store or iterator after it was closed. */
public class BackendClosedException extends PersistenceException {
  private static final long serialVersionUID = 1L;

  public BackendClosedException(String backendName) {
    super(
        "Backend '"
            + backendName
            + "' is closed; open a new PersistenceRegistry (or backend) to use it again.");
  }
}
