package io.cairn.persistence;

/**
 * Told when a {@link PersistenceRegistry} has opened its backends and before it closes them.
 * Listeners run on open in ascending {@link #order()} (ties in registration order) and on close in
 * the exact reverse. Recovery order is queues, then caches, then route catalogs: use the {@code
 * ORDER_*} constants.
 *
 * <p>If {@link #onOpen} throws, the registry runs {@link #onClose} for the listeners already opened
 * (in reverse), closes the backends and rethrows. Exceptions from {@link #onClose} are collected
 * and rethrown after every listener and backend has been closed.
 */
public interface LifecycleListener {
  int ORDER_QUEUES = 100;
  int ORDER_CACHES = 200;
  int ORDER_ROUTING = 300;
  int ORDER_DEFAULT = 1000;

  default int order() {
    return ORDER_DEFAULT;
  }

  /** Name for logs and error messages. */
  default String name() {
    return getClass().getSimpleName();
  }

  void onOpen(PersistenceRegistry registry);

  default void onClose(PersistenceRegistry registry) {}
}
