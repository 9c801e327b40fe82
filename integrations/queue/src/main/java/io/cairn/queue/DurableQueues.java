package io.cairn.queue;

import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.LifecycleListener;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.Settings;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Opens every queue configured under {@code cairn.queues} when the registry opens (at {@link
 * LifecycleListener#ORDER_QUEUES}, before caches and route catalogs), recovering each, and closes
 * them before the registry closes its backends.
 *
 * <pre>{@code
 * DurableQueues queues = new DurableQueues();
 * try (PersistenceRegistry registry =
 *     PersistenceRegistry.builder().listener(queues).open(config)) {
 *   DurableQueue<String> orders = queues.queue("orders", Codec.utf8());
 *   ...
 * }
 * }</pre>
 *
 * <p>Configuration is validated for all queues before any is opened; a bad setting fails the
 * registry open with a {@link ConfigurationException} listing every problem. Thread-safe.
 */
public final class DurableQueues implements LifecycleListener {
  private final Map<String, QueueCore> engines = new LinkedHashMap<>();
  private boolean open;

  /** A listener with no queues open; register it with {@code PersistenceRegistry.Builder}. */
  public DurableQueues() {}

  @Override
  public int order() {
    return ORDER_QUEUES;
  }

  @Override
  public String name() {
    return "queues";
  }

  /**
   * Validates {@code cairn.queues} and opens (and recovers) every configured queue.
   *
   * @throws ConfigurationException listing every bad queue setting; nothing is opened
   */
  @Override
  public synchronized void onOpen(PersistenceRegistry registry) {
    List<ConfigProblem> problems = new ArrayList<>();
    QueueSettings.validateAll(registry.config(), problems);
    Settings.throwIfAny(problems);
    try {
      for (String name : QueueSettings.configuredNames(registry.config())) {
        engines.put(name, DurableQueue.openEngine(registry, name));
      }
    } catch (RuntimeException e) {
      closeAll(e);
      throw e;
    }
    open = true;
  }

  /** Closes every queue (stopping their consumer helpers), in reverse open order. */
  @Override
  public synchronized void onClose(PersistenceRegistry registry) {
    open = false;
    PersistenceException failure = closeAll(null);
    if (failure != null) {
      throw failure;
    }
  }

  private PersistenceException closeAll(RuntimeException primary) {
    PersistenceException failure = null;
    List<QueueCore> list = new ArrayList<>(engines.values());
    engines.clear();
    for (int i = list.size() - 1; i >= 0; i--) {
      try {
        list.get(i).close();
      } catch (RuntimeException e) {
        if (primary != null) {
          primary.addSuppressed(e);
        } else if (failure == null) {
          failure = new PersistenceException("Closing queue failed: " + e.getMessage(), e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    return failure;
  }

  /** Names of the open queues, sorted. */
  public synchronized Set<String> names() {
    return Collections.unmodifiableSet(new TreeSet<>(engines.keySet()));
  }

  /**
   * Queue {@code name} with payloads through {@code codec}. Several views with different codecs may
   * share one queue. Do not close the view; the registry closes the queue.
   *
   * @throws ConfigurationException if no queue of that name is configured
   * @throws io.cairn.persistence.ClosedException if the registry is not open
   */
  public synchronized <T> DurableQueue<T> queue(String name, Codec<T> codec) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(codec, "codec");
    if (!open) {
      throw new io.cairn.persistence.ClosedException(
          "the registry behind these queues", "open a new PersistenceRegistry");
    }
    QueueCore e = engines.get(name);
    if (e == null) {
      String suggestion = Settings.suggest(name, engines.keySet());
      throw new ConfigurationException(
          "No queue named '"
              + name
              + "' is configured under cairn.queues"
              + (suggestion != null ? " (did you mean '" + suggestion + "'?)" : "")
              + "; configured queues: "
              + new TreeSet<>(engines.keySet()));
    }
    return new DurableQueue<>(e, codec, false);
  }

  /** Queue {@code name} with raw byte payloads. */
  public DurableQueue<byte[]> raw(String name) {
    return queue(name, Codec.bytes());
  }
}
