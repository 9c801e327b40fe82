package io.cairn.persistence.spi;

import io.cairn.persistence.CloseableIterator;
import java.util.Objects;

/**
 * A {@link CloseableIterator} that runs a check before each {@link #hasNext()} and {@link #next()}
 * (e.g. "the read view that handed it out is still open, on its own thread"), so a scan cannot
 * outlive the view it came from. {@link #close()} is not checked: closing is always allowed, so
 * resources are released even after the view ended. Not thread-safe, like the iterator it wraps.
 *
 * @param <T> element type
 */
public final class GuardedIterator<T> implements CloseableIterator<T> {
  private final CloseableIterator<T> it;
  private final Runnable check;

  private GuardedIterator(CloseableIterator<T> it, Runnable check) {
    this.it = Objects.requireNonNull(it, "it");
    this.check = Objects.requireNonNull(check, "check");
  }

  /**
   * {@code it}, with {@code check} run before each {@code hasNext} and {@code next}; whatever the
   * check throws reaches the caller and the iterator is not advanced.
   */
  public static <T> CloseableIterator<T> of(CloseableIterator<T> it, Runnable check) {
    return new GuardedIterator<>(it, check);
  }

  @Override
  public boolean hasNext() {
    check.run();
    return it.hasNext();
  }

  @Override
  public T next() {
    check.run();
    return it.next();
  }

  @Override
  public void close() {
    it.close();
  }
}
