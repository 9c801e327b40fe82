package io.cairn.guice;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheckRegistry;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueType;
import io.cairn.cache.TieredCache;
import io.cairn.cache.TieredCaches;
import io.cairn.config.CairnConfig;
import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.LifecycleListener;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.Settings;
import io.cairn.queue.DurableQueue;
import io.cairn.queue.DurableQueues;
import io.cairn.routing.RouteTable;
import io.cairn.routing.RouteTables;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Everything a configuration selects, without Guice: the {@link PersistenceRegistry}, its metric
 * and health-check registries, and the queues, caches and route tables of the modules named in
 * {@code cairn.modules}. {@link CairnModule} delegates to this class, so a service wired by Guice
 * and one wired by hand get the same objects. This class does not use Guice: it works with Guice
 * absent from the class path.
 *
 * <h2>Lifecycle</h2>
 *
 * {@link Builder#build()} validates the whole configuration with {@link CairnConfig#validate} —
 * undeclared keys, then every registered section validator: backends, queues, caches, route tables
 * and {@code cairn.modules} — and throws one {@link ConfigurationException} listing every problem
 * with its path and file:line. Nothing is opened yet. {@link #start()} opens the backends and then
 * the subsystems in recovery order: every queue (recovered), then every cache (expired L2 entries
 * purged, each cache opened with its codecs), then every route table (snapshot plus replay). They
 * run as {@link LifecycleListener}s of the registry at {@link LifecycleListener#ORDER_QUEUES},
 * {@link LifecycleListener#ORDER_CACHES} and {@link LifecycleListener#ORDER_ROUTING}, so a failure
 * closes everything already opened. {@link #stop()} closes them in reverse and then the backends.
 * Both are idempotent; a stopped instance cannot be started again (build a new one). {@link
 * #close()} is {@link #stop()}.
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
 * needs no codec: routes are typed already.
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

  /** Types and codec of one queue's payloads. */
  record QueueCodec(Class<?> type, Codec<?> codec) {}

  /** Types and codecs of one cache's keys and values. */
  record CacheCodecs(
      Class<?> keyType, Codec<?> keyCodec, Class<?> valueType, Codec<?> valueCodec) {}

  private static final QueueCodec RAW_QUEUE = new QueueCodec(byte[].class, null);
  private static final CacheCodecs RAW_CACHE =
      new CacheCodecs(String.class, null, byte[].class, null);

  private final Config config;
  private final List<ModuleList.Entry> modules;
  private final MetricRegistry metrics;
  private final HealthCheckRegistry healthChecks;
  private final Clock clock;
  private final Path baseDirectory;
  private final List<LifecycleListener> extraListeners;
  private final Map<String, QueueCodec> queueCodecs;
  private final Map<String, CacheCodecs> cacheCodecs;
  private final DurableQueues queues; // null unless the queue module is listed
  private final TieredCaches caches; // null unless the cache module is listed
  private final RouteTables routeTables; // null unless the routing module is listed
  private final Map<String, TieredCache<?, ?>> openCaches = new LinkedHashMap<>();
  private final Map<String, DurableQueue<?>> queueViews = new LinkedHashMap<>();
  private State state = State.NEW;
  private PersistenceRegistry registry;

  private Cairn(Builder b, Config resolved, List<ModuleList.Entry> modules) {
    this.config = resolved;
    this.modules = List.copyOf(modules);
    this.metrics = b.metrics;
    this.healthChecks = b.healthChecks;
    this.clock = b.clock;
    this.baseDirectory = b.baseDirectory;
    this.extraListeners = List.copyOf(b.listeners);
    this.queueCodecs = Map.copyOf(b.queueCodecs);
    this.cacheCodecs = Map.copyOf(b.cacheCodecs);
    this.queues = has(ModuleList.QUEUE) ? new DurableQueues() : null;
    this.caches = has(ModuleList.CACHE) ? new TieredCaches() : null;
    this.routeTables = has(ModuleList.ROUTING) ? new RouteTables() : null;
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

  /** The resolved configuration, reference defaults included. */
  public Config config() {
    return config;
  }

  /** The entries of {@code cairn.modules} in order: built-in names and class names. */
  public List<String> modules() {
    List<String> names = new ArrayList<>();
    modules.forEach(e -> names.add(e.name()));
    return Collections.unmodifiableList(names);
  }

  /** Class names listed in {@code cairn.modules} (third-party Guice modules), in order. */
  List<ModuleList.Entry> thirdPartyModules() {
    List<ModuleList.Entry> out = new ArrayList<>();
    for (ModuleList.Entry e : modules) {
      if (!e.builtIn()) {
        out.add(e);
      }
    }
    return out;
  }

  /**
   * Whether the built-in module {@code name} ({@code queue}, {@code cache}, {@code routing}) is
   * listed.
   */
  boolean has(String name) {
    for (ModuleList.Entry e : modules) {
      if (e.name().equals(name)) {
        return true;
      }
    }
    return false;
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
   * Opens the backends, then queues, caches and route tables, in that order. Returns this. Does
   * nothing if already running.
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
    extraListeners.forEach(b::listener);
    registry = b.open(config);
    state = State.RUNNING;
    return this;
  }

  /** Closes route tables, caches, queues and then the backends. Idempotent. */
  public synchronized void stop() {
    State was = state;
    state = State.STOPPED;
    if (was == State.RUNNING) {
      PersistenceRegistry r = registry;
      registry = null;
      queueViews.clear();
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
    return has(ModuleList.ROUTING) ? namesUnder("cairn.route-tables") : Set.of();
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
    return routeTables.table(name);
  }

  // ---------------------------------------------------------------- queues

  /** Names of the queues configured under {@code cairn.queues}, sorted. */
  public Set<String> queueNames() {
    return has(ModuleList.QUEUE) ? namesUnder("cairn.queues") : Set.of();
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
  @SuppressWarnings("unchecked")
  public synchronized <T> DurableQueue<T> queue(String name, Class<T> type) {
    requireModule(ModuleList.QUEUE, name);
    requireRunning();
    QueueCodec qc = queueCodec(name);
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

  /** The payload type of queue {@code name}: registered, or {@code byte[]}. */
  Class<?> queuePayloadType(String name) {
    return queueCodec(name).type();
  }

  private QueueCodec queueCodec(String name) {
    return queueCodecs.getOrDefault(name, RAW_QUEUE);
  }

  // ---------------------------------------------------------------- caches

  /** Names of the caches configured under {@code cairn.caches}, sorted. */
  public Set<String> cacheNames() {
    return has(ModuleList.CACHE) ? namesUnder("cairn.caches") : Set.of();
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
    TieredCache<?, ?> c = openCaches.get(name);
    if (c == null) {
      throw new ConfigurationException(
          "No cache named '"
              + name
              + "' is configured under cairn.caches; configured caches: "
              + openCaches.keySet());
    }
    return c;
  }

  /**
   * Cache {@code name} with its registered types, checked against {@code keyType} and {@code
   * valueType}.
   *
   * @throws IllegalArgumentException if the types differ from the registered ones
   */
  @SuppressWarnings("unchecked")
  public <K, V> TieredCache<K, V> cache(String name, Class<K> keyType, Class<V> valueType) {
    CacheCodecs cc = cacheCodecs(name);
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

  /** Key and value types of cache {@code name}. */
  CacheCodecs cacheCodecs(String name) {
    return cacheCodecs.getOrDefault(name, RAW_CACHE);
  }

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
      synchronized (Cairn.this) {
        for (String name : cacheNames()) {
          CacheCodecs cc = cacheCodecs(name);
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
      synchronized (Cairn.this) {
        openCaches.clear(); // the caches' own listener closes them
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  @Override
  public synchronized String toString() {
    return "Cairn" + modules() + " " + state.name().toLowerCase(java.util.Locale.ROOT);
  }

  private void requireRunning() {
    if (state != State.RUNNING) {
      throw new IllegalStateException(
          "Cairn is "
              + state.name().toLowerCase(java.util.Locale.ROOT)
              + "; call start() first"
              + (state == State.STOPPED ? " on a new instance" : ""));
    }
  }

  private void requireModule(String module, String name) {
    if (!has(module)) {
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

  private Set<String> namesUnder(String section) {
    return namesUnder(config, section);
  }

  private static Set<String> namesUnder(Config config, String section) {
    if (!config.hasPath(section)
        || config.getValue(section).valueType() != ConfigValueType.OBJECT) {
      return Set.of();
    }
    return Collections.unmodifiableSet(new TreeSet<>(config.getObject(section).keySet()));
  }

  /** Options; not thread-safe, use once. */
  public static final class Builder {
    private final Config config;
    private MetricRegistry metrics = new MetricRegistry();
    private HealthCheckRegistry healthChecks = new HealthCheckRegistry();
    private Clock clock = Clock.systemUTC();
    private Path baseDirectory;
    private final List<LifecycleListener> listeners = new ArrayList<>();
    private final Map<String, QueueCodec> queueCodecs = new LinkedHashMap<>();
    private final Map<String, CacheCodecs> cacheCodecs = new LinkedHashMap<>();

    private Builder(Config config) {
      this.config = Objects.requireNonNull(config, "config");
    }

    public Builder metrics(MetricRegistry metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

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
      Objects.requireNonNull(queue, "queue");
      queueCodecs.put(
          queue,
          new QueueCodec(
              Objects.requireNonNull(type, "type"), Objects.requireNonNull(codec, "codec")));
      return this;
    }

    /** Keys and values of cache {@code cache} are these types, encoded by these codecs. */
    public <K, V> Builder cacheCodecs(
        String cache,
        Class<K> keyType,
        Codec<K> keyCodec,
        Class<V> valueType,
        Codec<V> valueCodec) {
      Objects.requireNonNull(cache, "cache");
      cacheCodecs.put(
          cache,
          new CacheCodecs(
              Objects.requireNonNull(keyType, "keyType"),
              Objects.requireNonNull(keyCodec, "keyCodec"),
              Objects.requireNonNull(valueType, "valueType"),
              Objects.requireNonNull(valueCodec, "valueCodec")));
      return this;
    }

    /**
     * Validates the whole configuration (and that every codec registration names a configured queue
     * or cache) and returns a {@link Cairn} ready to {@link #start()}.
     *
     * @throws ConfigurationException listing every problem with path and file:line
     */
    public Cairn build() {
      ClassLoader loader = Thread.currentThread().getContextClassLoader();
      Config resolved;
      try {
        resolved =
            config
                .withFallback(
                    loader != null
                        ? ConfigFactory.defaultReference(loader)
                        : ConfigFactory.defaultReference())
                .resolve();
      } catch (com.typesafe.config.ConfigException e) {
        throw new ConfigurationException(
            "Cannot resolve the Cairn configuration: " + e.getMessage(), e);
      }
      List<ConfigProblem> problems = new ArrayList<>();
      try {
        CairnConfig.validate(resolved);
      } catch (ConfigurationException e) {
        if (e.problems().isEmpty()) {
          throw e;
        }
        problems.addAll(e.problems());
      }
      // one spelling from here on: cairn.cache / cairn.routing entries move to the plural names
      resolved = Settings.withRenamedSections(resolved);
      checkRegistrations(resolved, "cairn.queues", "queueCodec", queueCodecs.keySet(), problems);
      checkRegistrations(resolved, "cairn.caches", "cacheCodecs", cacheCodecs.keySet(), problems);
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      return new Cairn(this, resolved, ModuleList.read(resolved, new ArrayList<>()));
    }

    private static void checkRegistrations(
        Config resolved,
        String section,
        String method,
        Set<String> registered,
        List<ConfigProblem> problems) {
      Set<String> configured = namesUnder(resolved, section);
      for (String name : new TreeSet<>(registered)) {
        if (!configured.contains(name)) {
          problems.add(
              new ConfigProblem(
                  section + "." + name,
                  "not set (codec registered with Cairn.Builder." + method + ")",
                  "an entry for the name a codec is registered for; configured: " + configured,
                  "nothing"));
        }
      }
    }
  }
}
