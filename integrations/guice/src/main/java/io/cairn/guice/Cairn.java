package io.cairn.guice;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheckRegistry;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueType;
import io.cairn.config.CairnConfig;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.routing.RouteTable;
import io.cairn.routing.RouteTables;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
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
 * recovers subsystems in recovery order: queues, then caches, then route tables (they run as {@link
 * io.cairn.persistence.LifecycleListener}s of the registry, so a failure closes everything already
 * opened). {@link #stop()} closes them in reverse and then the backends. Both are idempotent; a
 * stopped instance cannot be started again (build a new one). {@link #close()} is {@link #stop()}.
 *
 * <p>Thread-safe.
 *
 * <pre>{@code
 * try (Cairn cairn = Cairn.open(ConfigFactory.parseFile(new File("app.conf")))) {
 *   RouteTable catalog = cairn.routeTable("catalog");
 *   catalog.resolve("/api/orders/42");
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
  private final List<ModuleList.Entry> modules;
  private final MetricRegistry metrics;
  private final HealthCheckRegistry healthChecks;
  private final Clock clock;
  private final Path baseDirectory;
  private final RouteTables routeTables; // null unless the routing module is listed
  private State state = State.NEW;
  private PersistenceRegistry registry;

  private Cairn(Builder b, Config resolved, List<ModuleList.Entry> modules) {
    this.config = resolved;
    this.modules = List.copyOf(modules);
    this.metrics = b.metrics;
    this.healthChecks = b.healthChecks;
    this.clock = b.clock;
    this.baseDirectory = b.baseDirectory;
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
    if (routeTables != null) {
      b.listener(routeTables);
    }
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

  /** Names of the route tables configured under {@code cairn.routing}, sorted. */
  public Set<String> routeTableNames() {
    return has(ModuleList.ROUTING) ? namesUnder("cairn.routing") : Set.of();
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
     * Validates the whole configuration and returns a {@link Cairn} ready to {@link #start()}.
     *
     * @throws ConfigurationException listing every problem with path and file:line
     */
    public Cairn build() {
      ClassLoader loader = Thread.currentThread().getContextClassLoader();
      Config resolved =
          config
              .withFallback(
                  loader != null
                      ? ConfigFactory.defaultReference(loader)
                      : ConfigFactory.defaultReference())
              .resolve();
      CairnConfig.validate(resolved);
      List<ModuleList.Entry> modules = ModuleList.read(resolved, new ArrayList<>());
      return new Cairn(this, resolved, modules);
    }
  }
}
