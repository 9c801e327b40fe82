package io.cairn.persistence;

import java.util.Iterator;

/**
 * An iterator over stored data that holds engine resources (a cursor, a read transaction, a native
 * iterator) until closed. Always use try-with-resources. Closing twice is harmless. Not
 * thread-safe: one iterator belongs to one thread.
 */
public interface CloseableIterator<T> extends Iterator<T>, AutoCloseable {
  @Override
  void close();
}
