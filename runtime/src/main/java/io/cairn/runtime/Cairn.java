package io.cairn.runtime;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheckRegistry;
import com.typesafe.config.Config;
import io.cairn.cache.TieredCache;
import io.cairn.config.CairnConfig;
import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.LifecycleListener;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.queue.DurableQueue;
import io.cairn.raft.RaftStorage;
import io.cairn.routing.RouteTable;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Everything a configuration selects, in plain Java: the {@link PersistenceRegistry}, its metric
 * and health-check registries, and the queues, caches, route tables and Raft groups of the modules
 * named in {@code cairn.modules}. This module depends on no dependency-injection container; {@code
 * cairn-guice}'s {@code CairnModule} is a thin layer over this class, so a service wired by Guice
 * and one wired by hand get the same objects.
 *
 * <h2>Lifecycle</h2>
 *
 * {@link Builder#build()} validates the whole configuration with {@link CairnConfig#validate} —
 * undeclared keys, then every registered section validator: backends, queues, caches, route tables,
 * Raft groups and {@code cairn.modules} — and throws one {@link ConfigurationException} listing
 * every problem with its path and file:line. Nothing is opened yet. {@link #start()} opens the
 * backends and then the subsystems in recovery order: every queue (recovered), then every cache
 * (expired L2 entries purged, each cache opened with its codecs), then every route table (snapshot
 * plus replay), then every Raft group's storage. They run as {@link LifecycleListener}s of the
 * registry at {@link LifecycleListener#ORDER_QUEUES}, {@link LifecycleListener#ORDER_CACHES},
 * {@link LifecycleListener#ORDER_ROUTING} and just after, so a failure closes everything already
 * opened. {@link #stop()} closes them in reverse and then the backends. Both are idempotent; a
 * stopped instance cannot be started again (build a new one). {@link #close()} is {@link #stop()}.
 *
 * <h2>Typed queues and caches: where codecs come from</h2>
 *
 * A queue or cache holds bytes; its element types are chosen in code, not in configuration: {@link
 * Builder#queueCodec} and {@link Builder#cacheCodecs} register, per name, the {@link Class} and the
 * {@link Codec} to use. Without a registration a queue carries {@code byte[]} payloads and a cache
 * maps {@code String} keys to {@code byte[]} values. A cache has exactly one instance per name (its
 * in-memory tier must match its persistent one), so {@link #cache(String)} returns that instance
 * with the registered types; a queue may be viewed raw ({@link #queue(String)}, {@code byte[]}) and
 * typed ({@link #queue(String, Class)}) at once, both over the same stored queue. A route table
 * needs no codec: routes are typed already; nor does a Raft group: entries are the Raft library's
 * bytes.
 *
 * <p>Thread-safe.
 *
 * <pre>{@code
 * try (Cairn cairn = Cairn.builder(CairnConfig.load(Path.of("app.toml")))
 *         .queueCodec("orders", Order.class, orderCodec)
 *         .build()
 *         .start()) {
 *   DurableQueue<Order> orders = cairn.queue("orders", Order.class);
 *   RouteTable catalog = cairn.routeTable("catalog");
 * }
 * }</pre>
 */
public final class Cairn implements AutoCloseable {
  private enum State {
    NEW,
    RUNNING,
    STOPPED
  }

  private final Config config;
  private final List<ModuleEntry> modules;
  private final MetricRegistry metrics;
  private final HealthCheckRegistry healthChecks;
  private final Clock clock;
  private final Path baseDirectory;
  private final List<LifecycleListener> extraListeners;
  private final Codecs codecs;
  private final Subsystems subsystems;
  private State state = State.NEW;
  private PersistenceRegistry registry;

  private Cairn(Builder b, Config resolved, List<ModuleEntry> modules) {
    this.config = resolved;
    this.modules = List.copyOf(modules);
    this.metrics = b.metrics;
    this.healthChecks = b.healthChecks;
    this.clock = b.clock;
    this.baseDirectory = b.baseDirectory;
    this.extraListeners = List.copyOf(b.listeners);
    this.codecs = b.codecs.freeze();
    Set<String> listed = new java.util.HashSet<>();
    modules.forEach(e -> listed.add(e.name()));
    this.subsystems = new Subsystems(this, resolved, codecs, listed);
  }

  /** Options for {@code config}; nothing is read until {@link Builder#build()}. */
  public static Builder builder(Config config) {
    return new Builder(config);
  }

  /**
   * Loads {@code file} (HOCON {@code .conf}, {@code .json}, {@code .properties} or {@code .toml},
   * see {@link CairnConfig#load(Path)}), validates it and starts everything it selects. Relative
   * data directories resolve against the working directory.
   *
   * @throws ConfigurationException for an unreadable or malformed file or any bad setting, with
   *     file:line; nothing is opened
   */
  public static Cairn open(Path file) {
    return open(CairnConfig.load(file));
  }

  /**
   * Validates {@code config} and starts everything it selects.
   *
   * @throws ConfigurationException listing every configuration problem; nothing is opened
   */
  public static Cairn open(Config config) {
    return builder(config).build().start();
  }

  /** The resolved configuration, reference defaults included, deprecated spellings renamed. */
  public Config config() {
    return config;
  }

  /** The entries of {@code cairn.modules} in order: built-in names and class names. */
  public List<String> modules() {
    List<String> names = new ArrayList<>();
    modules.forEach(e -> names.add(e.name()));
    return Collections.unmodifiableList(names);
  }

  /**
   * The class-name entries of {@code cairn.modules} in order: modules of a dependency-injection
   * container (Guice modules for {@code cairn-guice}) that this class does not load; each entry
   * carries its path and file:line for error messages.
   */
  public List<ModuleEntry> extensionModules() {
    List<ModuleEntry> out = new ArrayList<>();
    for (ModuleEntry e : modules) {
      if (!e.builtIn()) {
        out.add(e);
      }
    }
    return Collections.unmodifiableList(out);
  }

  /** The one metric registry; usable before {@link #start()}. */
  public MetricRegistry metrics() {
    return metrics;
  }

  /** The one health-check registry; usable before {@link #start()}. */
  public HealthCheckRegistry healthChecks() {
    return healthChecks;
  }

  /**
   * Opens the backends, then queues, caches, route tables and Raft groups, in that order. Returns
   * this. Does nothing if already running.
   *
   * @throws IllegalStateException if this instance was stopped
   * @throws io.cairn.persistence.PersistenceException if opening fails; everything opened so far is
   *     closed again and {@code start()} may be retried
   */
  public synchronized Cairn start() {
    switch (state) {
      case RUNNING:
        return this;
      case STOPPED:
        throw new IllegalStateException(
            "This Cairn instance was stopped; build a new one with Cairn.builder(config)");
      default:
        break;
    }
    PersistenceRegistry.Builder b =
        PersistenceRegistry.builder().metrics(metrics).healthChecks(healthChecks).clock(clock);
    if (baseDirectory != null) {
      b.baseDirectory(baseDirectory);
    }
    subsystems.register(b);
    extraListeners.forEach(b::listener);
    registry = b.open(config);
    state = State.RUNNING;
    return this;
  }

  /** Closes Raft groups, route tables, caches, queues and then the backends. Idempotent. */
  public synchronized void stop() {
    State was = state;
    state = State.STOPPED;
    if (was == State.RUNNING) {
      PersistenceRegistry r = registry;
      registry = null;
      subsystems.stopped();
      r.close();
    }
  }

  /** Same as {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  public synchronized boolean isRunning() {
    return state == State.RUNNING;
  }

  /**
   * The open registry.
   *
   * @throws IllegalStateException if not running
   */
  public synchronized PersistenceRegistry registry() {
    requireRunning();
    return registry;
  }

  // ---------------------------------------------------------------- route tables

  /** Names of the route tables configured under {@code cairn.route-tables}, sorted. */
  public Set<String> routeTableNames() {
    return subsystems.routeTableNames();
  }

  /**
   * The open route table {@code name}.
   *
   * @throws IllegalStateException if not running
   * @throws ConfigurationException if the routing module is not listed or no such table is
   *     configured
   */
  public synchronized RouteTable routeTable(String name) {
    requireModule(ModuleList.ROUTING, name);
    requireRunning();
    return subsystems.routeTable(name);
  }

  // ---------------------------------------------------------------- queues

  /** Names of the queues configured under {@code cairn.queues}, sorted. */
  public Set<String> queueNames() {
    return subsystems.queueNames();
  }

  /**
   * Queue {@code name} with raw {@code byte[]} payloads (the same stored queue as any typed view).
   *
   * @throws IllegalStateException if not running
   * @throws ConfigurationException if the queue module is not listed or no such queue is configured
   */
  public DurableQueue<byte[]> queue(String name) {
    return queue(name, byte[].class);
  }

  /**
   * Queue {@code name} with payloads of {@code type}: {@code byte[]}, or the type registered with
   * {@link Builder#queueCodec}. Returns the same view object for the same name and type.
   *
   * @throws IllegalArgumentException if {@code type} is neither
   */
  public synchronized <T> DurableQueue<T> queue(String name, Class<T> type) {
    requireModule(ModuleList.QUEUE, name);
    requireRunning();
    return subsystems.queue(name, type);
  }

  /** The payload type of queue {@code name}: the one registered, or {@code byte[]}. */
  public Class<?> queuePayloadType(String name) {
    return codecs.queue(name).type();
  }

  // ---------------------------------------------------------------- caches

  /** Names of the caches configured under {@code cairn.caches}, sorted. */
  public Set<String> cacheNames() {
    return subsystems.cacheNames();
  }

  /**
   * The one instance of cache {@code name}, with the key and value types registered by {@link
   * Builder#cacheCodecs} ({@code String} to {@code byte[]} if none).
   *
   * @throws IllegalStateException if not running
   * @throws ConfigurationException if the cache module is not listed or no such cache is configured
   */
  public synchronized TieredCache<?, ?> cache(String name) {
    requireModule(ModuleList.CACHE, name);
    requireRunning();
    return subsystems.cache(name);
  }

  /**
   * Cache {@code name} with its registered types, checked against {@code keyType} and {@code
   * valueType}.
   *
   * @throws IllegalArgumentException if the types differ from the registered ones
   */
  @SuppressWarnings("unchecked")
  public <K, V> TieredCache<K, V> cache(String name, Class<K> keyType, Class<V> valueType) {
    Codecs.CacheCodecs cc = codecs.cache(name);
    if (cc.keyType() != keyType || cc.valueType() != valueType) {
      throw new IllegalArgumentException(
          "Cache '"
              + name
              + "' maps "
              + cc.keyType().getName()
              + " to "
              + cc.valueType().getName()
              + ", not "
              + keyType.getName()
              + " to "
              + valueType.getName()
              + "; register codecs with Cairn.Builder.cacheCodecs(\""
              + name
              + "\", ...)");
    }
    return (TieredCache<K, V>) cache(name);
  }

  /** The key type of cache {@code name}: the one registered, or {@code String}. */
  public Class<?> cacheKeyType(String name) {
    return codecs.cache(name).keyType();
  }

  /** The value type of cache {@code name}: the one registered, or {@code byte[]}. */
  public Class<?> cacheValueType(String name) {
    return codecs.cache(name).valueType();
  }

  // ---------------------------------------------------------------- Raft groups

  /** Names of the Raft groups configured (see {@link io.cairn.raft.RaftGroups#PATH}), sorted. */
  public Set<String> raftGroupNames() {
    return Collections.unmodifiableSet(new java.util.TreeSet<>(subsystems.raftGroupNames()));
  }

  /**
   * The storage of Raft group {@code group}, opened at {@link #start()}: one instance per group, as
   * {@link RaftStorage} requires one writer per group and node.
   *
   * @throws IllegalStateException if not running
   * @throws ConfigurationException if the raft module is not listed or no such group is configured
   */
  public synchronized RaftStorage raftStorage(String group) {
    requireModule(ModuleList.RAFT, group);
    requireRunning();
    return subsystems.raftStorage(group);
  }

  // ---------------------------------------------------------------- helpers

  @Override
  public synchronized String toString() {
    return "Cairn" + modules() + " " + state.name().toLowerCase(Locale.ROOT);
  }

  private void requireRunning() {
    if (state != State.RUNNING) {
      throw new IllegalStateException(
          "Cairn is "
              + state.name().toLowerCase(Locale.ROOT)
              + "; call start() first"
              + (state == State.STOPPED ? " on a new instance" : ""));
    }
  }

  private void requireModule(String module, String name) {
    if (!modules().contains(module)) {
      throw new ConfigurationException(
          "Cannot get "
              + module
              + " '"
              + name
              + "': module '"
              + module
              + "' is not in cairn.modules "
              + modules()
              + "; add it there.");
    }
  }

  /** Options; not thread-safe, use once. */
  public static final class Builder {
    private final Config config;
    private MetricRegistry metrics = new MetricRegistry();
    private HealthCheckRegistry healthChecks = new HealthCheckRegistry();
    private Clock clock = Clock.systemUTC();
    private Path baseDirectory;
    private final List<LifecycleListener> listeners = new ArrayList<>();
    private final Codecs codecs = new Codecs();

    private Builder(Config config) {
      this.config = Objects.requireNonNull(config, "config");
    }

    /**
     * Registry for every metric Cairn publishes (e.g. the application's own); a new one if unset.
     */
    public Builder metrics(MetricRegistry metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

    /** Registry for every health check Cairn registers; a new one if unset. */
    public Builder healthChecks(HealthCheckRegistry healthChecks) {
      this.healthChecks = Objects.requireNonNull(healthChecks, "healthChecks");
      return this;
    }

    /** Clock for TTLs and timestamps in every backend and subsystem. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Directory that relative data directories resolve against; the working directory if unset. */
    public Builder baseDirectory(Path dir) {
      this.baseDirectory = Objects.requireNonNull(dir, "dir").toAbsolutePath();
      return this;
    }

    /**
     * An extra registry listener, run in {@link LifecycleListener#order()} among the subsystems'
     * (e.g. at {@link LifecycleListener#ORDER_DEFAULT}: after every subsystem opened).
     */
    public Builder listener(LifecycleListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** Payloads of queue {@code queue} are {@code type}, encoded by {@code codec}. */
    public <T> Builder queueCodec(String queue, Class<T> type, Codec<T> codec) {
      codecs.queue(queue, type, codec);
      return this;
    }

    /** Keys and values of cache {@code cache} are these types, encoded by these codecs. */
    public <K, V> Builder cacheCodecs(
        String cache,
        Class<K> keyType,
        Codec<K> keyCodec,
        Class<V> valueType,
        Codec<V> valueCodec) {
      codecs.cache(cache, keyType, keyCodec, valueType, valueCodec);
      return this;
    }

    /**
     * Validates the whole configuration (and that every codec registration names a configured queue
     * or cache) and returns a {@link Cairn} ready to {@link #start()}.
     *
     * @throws ConfigurationException listing every problem with path and file:line
     */
    public Cairn build() {
      Config resolved = ConfigResolver.resolve(config, codecs);
      return new Cairn(this, resolved, ModuleList.read(resolved, new ArrayList<>()));
    }
  }
}
