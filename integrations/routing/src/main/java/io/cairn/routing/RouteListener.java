package io.cairn.routing;

/**
 * Told about every change of a {@link RouteTable} after it is durable and visible to readers.
 *
 * <p>Called on the writing thread, in table-version order, while the table's write lock is held:
 * implementations must be quick and must not block (hand work to an executor if needed). They may
 * read the table; writing to it from inside a listener throws {@link IllegalStateException}. An
 * exception thrown by a listener is logged and does not undo the change or stop other listeners.
 * Changes replayed during start-up are not notified; listeners see only changes made after they
 * were added.
 */
@FunctionalInterface
public interface RouteListener {
  void onChange(RouteChange change);
}
