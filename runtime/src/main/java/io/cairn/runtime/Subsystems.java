package io.cairn.runtime;

import com.typesafe.config.Config;
import io.cairn.cache.TieredCache;
import io.cairn.cache.TieredCaches;
import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.LifecycleListener;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.Settings;
import io.cairn.queue.DurableQueue;
import io.cairn.queue.DurableQueues;
import io.cairn.raft.RaftGroups;
import io.cairn.raft.RaftStorage;
import io.cairn.routing.RouteTable;
import io.cairn.routing.RouteTables;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The subsystems of one {@link Cairn}: the queue, cache, route-table and Raft-group objects of the
 * built-in modules listed in {@code cairn.modules}, opened as registry {@link LifecycleListener}s
 * in recovery order (queues, caches, route tables, then Raft groups) and closed in reverse. Holds
 * the one instance per name that callers get: a cache's single typed instance, a queue's views per
 * payload type, a Raft group's single storage (a group has one writer per node).
 *
 * <p>Guarded by the owning {@link Cairn}'s monitor: every method is called with it held, and the
 * listeners take it themselves.
 */
final class Subsystems {
  static final String QUEUES = "cairn.queues";
  static final String CACHES = "cairn.caches";
  static final String ROUTE_TABLES = "cairn.route-tables";

  /** After route tables, before listeners at {@link LifecycleListener#ORDER_DEFAULT}. */
  static final int ORDER_RAFT = LifecycleListener.ORDER_ROUTING + 100;

  private final Object lock;
  private final Config config;
  private final Codecs codecs;
  private final DurableQueues queues; // null unless the queue module is listed
  private final TieredCaches caches; // null unless the cache module is listed
  private final RouteTables routeTables; // null unless the routing module is listed
  private final boolean raft;
  private final Map<String, TieredCache<?, ?>> openCaches = new LinkedHashMap<>();
  private final Map<String, DurableQueue<?>> queueViews = new LinkedHashMap<>();
  private final Map<String, RaftStorage> raftGroups = new LinkedHashMap<>();

  Subsystems(Object lock, Config config, Codecs codecs, Set<String> modules) {
    this.lock = lock;
    this.config = config;
    this.codecs = codecs;
    this.queues = modules.contains(ModuleList.QUEUE) ? new DurableQueues() : null;
    this.caches = modules.contains(ModuleList.CACHE) ? new TieredCaches() : null;
    this.routeTables = modules.contains(ModuleList.ROUTING) ? new RouteTables() : null;
    this.raft = modules.contains(ModuleList.RAFT);
  }

  /** Registers the listeners that open (and close) the listed subsystems. */
  void register(PersistenceRegistry.Builder b) {
    if (queues != null) {
      b.listener(queues);
    }
    if (caches != null) {
      b.listener(caches);
      b.listener(new CacheOpener()); // same order, registered later: runs right after caches
    }
    if (routeTables != null) {
      b.listener(routeTables);
    }
    if (raft) {
      b.listener(new RaftOpener());
    }
  }

  /** Forgets the views handed out; the listeners close the objects themselves. */
  void stopped() {
    queueViews.clear();
  }

  // ---------------------------------------------------------------- names

  Set<String> queueNames() {
    return queues != null ? namesUnder(config, QUEUES) : Set.of();
  }

  Set<String> cacheNames() {
    return caches != null ? namesUnder(config, CACHES) : Set.of();
  }

  Set<String> routeTableNames() {
    return routeTables != null ? namesUnder(config, ROUTE_TABLES) : Set.of();
  }

  Set<String> raftGroupNames() {
    return raft ? Set.copyOf(RaftGroups.names(config)) : Set.of();
  }

  // ---------------------------------------------------------------- objects

  RouteTable routeTable(String name) {
    return routeTables.table(name);
  }

  @SuppressWarnings("unchecked")
  <T> DurableQueue<T> queue(String name, Class<T> type) {
    Codecs.QueueCodec qc = codecs.queue(name);
    Codec<?> codec;
    if (type == byte[].class) {
      codec = Codec.bytes();
    } else if (type == qc.type()) {
      codec = qc.codec();
    } else {
      throw new IllegalArgumentException(
          "Queue '"
              + name
              + "' carries "
              + qc.type().getName()
              + (qc.type() == byte[].class ? "" : " (or byte[])")
              + ", not "
              + type.getName()
              + "; register a codec with Cairn.Builder.queueCodec(\""
              + name
              + "\", "
              + type.getSimpleName()
              + ".class, codec)");
    }
    String viewKey = name + "\u0000" + type.getName();
    DurableQueue<?> view = queueViews.get(viewKey);
    if (view == null) {
      view = queues.queue(name, codec);
      queueViews.put(viewKey, view);
    }
    return (DurableQueue<T>) view;
  }

  TieredCache<?, ?> cache(String name) {
    TieredCache<?, ?> c = openCaches.get(name);
    if (c == null) {
      throw new ConfigurationException(
          "No cache named '"
              + name
              + "' is configured under "
              + CACHES
              + "; configured caches: "
              + openCaches.keySet());
    }
    return c;
  }

  RaftStorage raftStorage(String group) {
    RaftStorage s = raftGroups.get(group);
    if (s == null) {
      throw new ConfigurationException(
          "No Raft group named '"
              + group
              + "' is configured under "
              + RaftGroups.PATH
              + "; configured groups: "
              + raftGroups.keySet());
    }
    return s;
  }

  // ---------------------------------------------------------------- listeners

  /** Opens every configured cache with its codecs, right after the caches' own listener. */
  private final class CacheOpener implements LifecycleListener {
    @Override
    public int order() {
      return ORDER_CACHES;
    }

    @Override
    public String name() {
      return "cache-opener";
    }

    @Override
    public void onOpen(PersistenceRegistry registry) {
      synchronized (lock) {
        for (String name : cacheNames()) {
          Codecs.CacheCodecs cc = codecs.cache(name);
          openCaches.put(
              name,
              cc.keyCodec() == null
                  ? caches.raw(name)
                  : caches.cache(name, cc.keyCodec(), cc.valueCodec()));
        }
      }
    }

    @Override
    public void onClose(PersistenceRegistry registry) {
      synchronized (lock) {
        openCaches.clear(); // the caches' own listener closes them
      }
    }
  }

  /**
   * Opens the storage of every configured Raft group (its layout is checked on open, so a damaged
   * group fails start, not the first vote). A {@link RaftStorage} holds no resources of its own:
   * closing the backends is its close.
   */
  private final class RaftOpener implements LifecycleListener {
    @Override
    public int order() {
      return ORDER_RAFT;
    }

    @Override
    public String name() {
      return "raft-groups";
    }

    @Override
    public void onOpen(PersistenceRegistry registry) {
      synchronized (lock) {
        for (String group : new java.util.TreeSet<>(raftGroupNames())) {
          raftGroups.put(group, RaftStorage.open(registry, group));
        }
      }
    }

    @Override
    public void onClose(PersistenceRegistry registry) {
      synchronized (lock) {
        raftGroups.clear();
      }
    }
  }

  /** The entry names of the map section {@code section}, sorted; empty if absent. */
  static Set<String> namesUnder(Config config, String section) {
    return Settings.namedSections(config, section);
  }
}
