package io.cairn.persistence.spi;

import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * The closed state of a backend and the calls in flight on it, written once: a backend's calls
 * {@link #enter()} and {@link #exit()} around their work (or only {@link #ensureOpen()} where close
 * need not wait for them), and its {@code close()} runs {@link #markClosed()} then {@link
 * #drain(Runnable)}, so that the resources are released only once no call is using them.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li>Thread-safe. {@link #enter()} may nest on one thread (a call inside a call); each {@code
 *       enter} is paired with one {@link #exit()} on the same thread, in a {@code finally}.
 *   <li>After {@link #markClosed()}, {@link #ensureOpen()} and {@link #enter()} throw the exception
 *       the backend's supplier makes (a {@link io.cairn.persistence.BackendClosedException}, naming
 *       the backend), on every thread, also for stores and iterators handed out before.
 *   <li>{@link #drain(Runnable)} waits until every call entered before the close has exited, then
 *       runs the release with no call in flight; a call that enters meanwhile throws the closed
 *       exception. It must not be called from inside a call (that would wait for itself): it throws
 *       {@link IllegalStateException} then.
 *   <li>{@link #markClosed()} returns {@code true} once, so a {@code close()} that runs again, or
 *       on two threads at once, releases only once.
 * </ul>
 */
public final class CallGuard {
  private final Supplier<? extends RuntimeException> closedError;

  /** Operations hold the read lock; {@link #drain} takes the write lock, so it waits for them. */
  private final ReentrantReadWriteLock inFlight = new ReentrantReadWriteLock();

  private volatile boolean closed;

  /**
   * @param closedError makes the exception a call after close throws, e.g. {@code () -> new
   *     BackendClosedException(name)}; called once per refused call
   */
  public CallGuard(Supplier<? extends RuntimeException> closedError) {
    this.closedError = Objects.requireNonNull(closedError, "closedError");
  }

  /** Whether {@link #markClosed()} has run (a volatile read: cheap, never blocks). */
  public boolean isClosed() {
    return closed;
  }

  /** Throws the closed exception if the backend is closed; returns at once otherwise. */
  public void ensureOpen() {
    if (closed) {
      throw closedError.get();
    }
  }

  /**
   * Starts a call in flight: from here until {@link #exit()}, {@link #drain} waits. Throws the
   * closed exception, holding nothing, if the backend is closed (also when it closed while this
   * thread waited to enter).
   */
  public void enter() {
    ensureOpen();
    inFlight.readLock().lock();
    if (closed) {
      inFlight.readLock().unlock();
      throw closedError.get();
    }
  }

  /** Ends the call {@link #enter()} started on this thread. */
  public void exit() {
    inFlight.readLock().unlock();
  }

  /**
   * Marks the backend closed; from now on calls are refused. Returns {@code true} the first time,
   * {@code false} if it was closed already (the caller then releases nothing).
   *
   * @throws IllegalStateException if this thread is inside a call of this backend (nothing is
   *     marked: the close must happen outside the call)
   */
  public synchronized boolean markClosed() {
    if (inFlight.getReadHoldCount() > 0) {
      throw new IllegalStateException(
          "close() from inside a call of the same backend would wait for itself forever;"
              + " close the backend after the call returns");
    }
    if (closed) {
      return false;
    }
    closed = true;
    return true;
  }

  /**
   * Waits for the calls in flight to end, then runs {@code release} while no call can start. Call
   * after {@link #markClosed()}, never from inside a call.
   *
   * @throws IllegalStateException if the backend is not marked closed, or this thread is inside a
   *     call
   */
  public void drain(Runnable release) {
    Objects.requireNonNull(release, "release");
    if (!closed) {
      throw new IllegalStateException("drain() before markClosed(): calls could still start");
    }
    if (inFlight.getReadHoldCount() > 0) {
      throw new IllegalStateException(
          "close() from inside a call of the same backend would wait for itself forever");
    }
    inFlight.writeLock().lock();
    try {
      release.run();
    } finally {
      inFlight.writeLock().unlock();
    }
  }
}
