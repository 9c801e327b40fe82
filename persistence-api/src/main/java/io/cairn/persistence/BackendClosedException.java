package io.cairn.persistence;

/** An operation was attempted on a backend, store or iterator after the backend was closed. */
public class BackendClosedException extends ClosedException {
  private static final long serialVersionUID = 1L;

  public BackendClosedException(String backendName) {
    super(
        "backend '" + backendName + "'",
        "open a new PersistenceRegistry (or backend) to use it again.");
  }
}
