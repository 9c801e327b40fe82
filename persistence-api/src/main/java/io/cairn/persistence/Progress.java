package io.cairn.persistence;

/**
 * Receives progress of a long operation (verify, compact, warm-up, backup, migration). Called from
 * the thread doing the work; implementations must be cheap and must not throw.
 */
@FunctionalInterface
public interface Progress {
  /** A progress sink that discards everything. */
  Progress NONE = (phase, done, total) -> {};

  /**
   * @param phase short description of the current step, e.g. {@code "integrity_check"}
   * @param done units completed in this phase
   * @param total units in this phase, or -1 when unknown
   */
  void report(String phase, long done, long total);
}
