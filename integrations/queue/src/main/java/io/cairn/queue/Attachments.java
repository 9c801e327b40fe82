package io.cairn.queue;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a queue engine ({@link QueueEngine} or {@link SharedQueueEngine}) hands its close to: the
 * consumer helpers attached to it ({@link QueueWorkers}) and the hooks to run once it is closed.
 * Both engines close the same way around their own work: detach and stop the helpers first, then
 * close what is theirs, then run the hooks. Thread-safe.
 */
final class Attachments {
  private static final Logger log = LoggerFactory.getLogger(Attachments.class);

  private final String queue;
  private final List<AutoCloseable> workers = new ArrayList<>();
  private final List<Runnable> closeHooks = new ArrayList<>();

  Attachments(String queue) {
    this.queue = queue;
  }

  /**
   * Attaches {@code w}; {@code ensureOpen} throws if the engine is closed (checked under the lock).
   */
  synchronized void addWorkers(AutoCloseable w, Runnable ensureOpen) {
    ensureOpen.run();
    workers.add(w);
  }

  synchronized void removeWorkers(AutoCloseable w) {
    workers.remove(w);
  }

  synchronized void onClose(Runnable hook) {
    closeHooks.add(Objects.requireNonNull(hook, "hook"));
  }

  /**
   * Detaches everything and stops the helpers (a failure is logged, the others still stop). Returns
   * the close hooks for the engine to run after its own close, or {@code null} if {@code closed}
   * says the engine is closed already (close is idempotent).
   */
  List<Runnable> detachAndStopWorkers(BooleanSupplier closed) {
    List<AutoCloseable> ws;
    List<Runnable> hooks;
    synchronized (this) {
      if (closed.getAsBoolean()) {
        return null;
      }
      ws = new ArrayList<>(workers);
      workers.clear();
      hooks = new ArrayList<>(closeHooks);
      closeHooks.clear();
    }
    for (AutoCloseable w : ws) {
      try {
        w.close();
      } catch (Exception e) {
        log.warn("Queue '{}': stopping consumers failed: {}", queue, e.toString());
      }
    }
    return hooks;
  }
}
