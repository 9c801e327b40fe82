package io.cairn.routing;

import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.LifecycleListener;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.Settings;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The route tables configured under {@code cairn.routing}, opened and recovered when a {@link
 * PersistenceRegistry} opens — at {@link LifecycleListener#ORDER_ROUTING}, after queues and caches
 * — and closed before it closes its backends. Register it with {@link
 * PersistenceRegistry.Builder#listener}.
 *
 * <p>Tables open in name order; if one fails to open, those already open are closed and the failure
 * propagates (the registry then closes its backends). Thread-safe.
 */
public final class RouteTables implements LifecycleListener {
  private final Map<String, RouteTable> tables = new LinkedHashMap<>();

  /** A listener that will open every configured table. */
  public RouteTables() {}

  @Override
  public int order() {
    return ORDER_ROUTING;
  }

  @Override
  public String name() {
    return "routing";
  }

  /**
   * Opens every table under {@code cairn.routing}.
   *
   * @throws ConfigurationException listing every problem in {@code cairn.routing}; nothing opened
   */
  @Override
  public synchronized void onOpen(PersistenceRegistry registry) {
    List<ConfigProblem> problems = new ArrayList<>();
    List<RoutingSettings> all = RoutingSettings.readAll(registry.config(), problems);
    Settings.throwIfAny(problems);
    try {
      for (RoutingSettings s : all) {
        tables.put(s.name(), RouteTable.open(registry, s.name()));
      }
    } catch (RuntimeException e) {
      closeAll(e);
      throw e;
    }
  }

  /** Closes every table, newest first. */
  @Override
  public synchronized void onClose(PersistenceRegistry registry) {
    RuntimeException failure = closeAll(null);
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * The open table {@code name}.
   *
   * @throws ConfigurationException if no table of that name is configured (or the tables are not
   *     open), naming the open ones
   */
  public synchronized RouteTable table(String name) {
    RouteTable t = tables.get(name);
    if (t == null) {
      throw new ConfigurationException(
          "No route table named '"
              + name
              + "' is open; open tables: "
              + tables.keySet()
              + ". Configure it under cairn.route-tables."
              + name
              + " and open the registry with this listener.");
    }
    return t;
  }

  /** The open tables by name, in open order. */
  public synchronized Map<String, RouteTable> tables() {
    return Collections.unmodifiableMap(new LinkedHashMap<>(tables));
  }

  private RuntimeException closeAll(RuntimeException failure) {
    List<RouteTable> open = new ArrayList<>(tables.values());
    tables.clear();
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    return failure;
  }
}
