package io.cairn.persistence;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheck;
import com.codahale.metrics.health.HealthCheckRegistry;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.BackendConfigValidator.BackendSpec;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Encryption;
import io.cairn.persistence.spi.Events;
import io.cairn.persistence.spi.StorageBackendProvider;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the backends named under {@code cairn.backends} and owns them until {@link #close()}.
 *
 * <ul>
 *   <li>Configuration is validated completely before anything is opened; all problems are reported
 *       in one {@link ConfigurationException}.
 *   <li>Backends open in name order; if one fails, those already open are closed and the failure is
 *       rethrown. Nothing stays open or locked.
 *   <li>Every store operation is timed in the one {@link MetricRegistry} as {@code
 *       cairn.backends.<backend>.<kind>.<op>} (kind is {@code kv}, {@code log} or {@code
 *       snapshot}); with {@code per-store-metrics = true} per store as {@code
 *       cairn.backends.<backend>.<kind>.<store>.<op>} with size gauges {@code ...<store>.entries}.
 *       Each backend has a health check {@code cairn.backends.<backend>}. Backend metrics live
 *       under {@code cairn.backends} so that they cannot collide with a subsystem's ({@code
 *       cairn.queues.*}, {@code cairn.caches.*}), whatever the backend is named. Arguments, the
 *       transaction rule and the batch caps are checked here too (see {@link StorageBackend}). All
 *       of this is done here, once, for every backend.
 *   <li>{@link LifecycleListener}s run after the backends open, in declared order, and in reverse
 *       before they close.
 * </ul>
 *
 * <p>Thread-safe. {@link #close()} is idempotent.
 */
public final class PersistenceRegistry implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PersistenceRegistry.class);

  private final Config config;
  private final MetricRegistry metrics;
  private final HealthCheckRegistry healthChecks;
  private final Clock clock;
  private final Map<String, InstrumentedBackend> backends;
  private final List<LifecycleListener> listeners;
  private final List<LifecycleListener> opened = new ArrayList<>();
  // per backend with an encryption section: rewrites its key check record with the primary key
  private final Map<String, Runnable> keyCheckResealers;
  // per encrypted backend with a data directory: copies its key check (and key hash) record
  private final Map<String, java.util.function.Consumer<Path>> keyFileCopiers;
  private final Map<String, Maintenance> maintenance;
  private final Events events;
  private final AutoCloseable eventSink; // the sink opened from cairn.events, closed last
  private boolean closed;

  private PersistenceRegistry(
      Builder b,
      Config config,
      Map<String, InstrumentedBackend> backends,
      Map<String, Runnable> keyCheckResealers,
      Map<String, java.util.function.Consumer<Path>> keyFileCopiers,
      Map<String, Maintenance> maintenance) {
    this.config = config;
    this.maintenance = maintenance;
    this.events = b.resolvedEvents;
    this.eventSink = b.openedSink;
    this.keyCheckResealers = keyCheckResealers;
    this.keyFileCopiers = keyFileCopiers;
    this.metrics = b.metrics;
    this.healthChecks = b.healthChecks;
    this.clock = b.clock;
    this.backends = backends;
    List<LifecycleListener> sorted = new ArrayList<>(b.listeners);
    sorted.sort(Comparator.comparingInt(LifecycleListener::order)); // stable: ties keep order
    this.listeners = Collections.unmodifiableList(sorted);
  }

  /** Opens the backends {@code config} names, with a fresh metric registry and system clock. */
  public static PersistenceRegistry open(Config config) {
    return builder().open(config);
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Checks {@code cairn.backends} without opening anything and returns every problem found (empty
   * if valid). Reference defaults are applied first.
   */
  public static List<ConfigProblem> validate(Config config) {
    List<ConfigProblem> problems = new ArrayList<>();
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    Config resolved = withReference(config, cl);
    BackendConfigValidator.read(resolved, Providers.load(cl), null, problems);
    EventSinks.read(resolved, null, problems);
    return problems;
  }

  /** The known backend types on the classpath, sorted. */
  public static Set<String> knownTypes() {
    return Providers.load(Thread.currentThread().getContextClassLoader()).keySet();
  }

  /**
   * The backend named {@code name}, instrumented.
   *
   * @throws ConfigurationException naming the configured backends if there is none by that name
   */
  public StorageBackend backend(String name) {
    ensureOpen();
    StorageBackend b = backends.get(name);
    if (b == null) {
      throw new ConfigurationException(
          "No backend named '"
              + name
              + "' is configured; configured backends: "
              + backends.keySet()
              + ". Add it under cairn.backends or fix the name.");
    }
    return b;
  }

  /**
   * The backend named by {@code cairn.default-backend}, or the only backend if that is empty and
   * exactly one is configured.
   */
  public StorageBackend defaultBackend() {
    String name = config.getString("cairn.default-backend");
    if (!name.isEmpty()) {
      return backend(name);
    }
    if (backends.size() == 1) {
      return backends.values().iterator().next();
    }
    throw new ConfigurationException(
        "cairn.default-backend is empty and "
            + backends.size()
            + " backends are configured "
            + backends.keySet()
            + "; set cairn.default-backend to one of them.");
  }

  /** Names of the open backends, in open order. */
  public Set<String> backendNames() {
    return Collections.unmodifiableSet(backends.keySet());
  }

  /**
   * Re-encrypts backend {@code name} under its primary key ({@link StorageBackend#reseal}), then,
   * for a backend whose {@code encryption} section the registry opened, replaces its key check
   * record with one sealed by the primary key. When this returns, nothing of the backend needs an
   * older key; a run stopped before (crash, {@code kill -9}, an exception) leaves the old key still
   * needed and is simply run again. The backend stays in use meanwhile.
   *
   * @throws ConfigurationException if no backend has that name
   * @throws UnsupportedOperationException if the backend does not encrypt
   */
  public ResealReport reseal(String name, Progress progress) {
    Objects.requireNonNull(progress, "progress");
    StorageBackend b = backend(name);
    ResealReport report = b.reseal(progress);
    Runnable keyCheck = keyCheckResealers.get(name);
    if (keyCheck != null) {
      keyCheck.run();
    }
    return report;
  }

  /**
   * The background maintenance of backend {@code name} ({@code maintenance} in its configuration):
   * its tasks, failure counts, and {@link Maintenance#runDue()} to run what is due now by the
   * registry's clock (tools and tests with a manual clock; the registry's own thread calls it too).
   *
   * @throws ConfigurationException if no backend has that name
   */
  public Maintenance maintenance(String name) {
    backend(name);
    return maintenance.get(name);
  }

  /**
   * The structured event sink ({@code cairn.events}, or the builder's {@link Builder#events});
   * {@link Events#NONE} when off. For the registry's users that emit (backup, restore, migration).
   */
  public Events events() {
    return events;
  }

  /**
   * Takes a backup of backend {@code name} into the empty or absent directory {@code target} while
   * the backend stays in use: the engine's online checkpoint ({@link StorageBackend#checkpoint}, a
   * consistent copy as of one instant), then the copy is opened read-only to count every store
   * exactly, and a {@link BackupManifest} with every file's SHA-256 is written last. This is the
   * in-service path (a RocksDB checkpoint needs the owning handle); {@code cairn backup} writes the
   * same manifest from a second process where the engine allows it.
   *
   * @throws ConfigurationException if no backend has that name
   * @throws UnsupportedOperationException if the backend lacks {@link Capability#CHECKPOINT}
   * @throws IllegalArgumentException if {@code target} is not empty
   * @throws StorageEngineException if writing the copy or its manifest fails
   */
  public BackupManifest backup(String name, Path target, Progress progress) {
    Objects.requireNonNull(progress, "progress");
    StorageBackend b = backend(name);
    Path dir = target.toAbsolutePath().normalize();
    b.checkpoint(dir, progress);
    // an encrypted backend's key check record is not an engine file: without it the copy is
    // refused at open, and its AES-256-GCM keys (derived with the record's salt) are lost
    java.util.function.Consumer<Path> keyFiles = keyFileCopiers.get(name);
    if (keyFiles != null) {
      keyFiles.accept(dir);
    }
    return BackupManifest.describeCopy(name, b.type(), config, dir, clock, progress);
  }

  /** The resolved configuration this registry was opened with, reference defaults included. */
  public Config config() {
    return config;
  }

  public MetricRegistry metrics() {
    return metrics;
  }

  public HealthCheckRegistry healthChecks() {
    return healthChecks;
  }

  public Clock clock() {
    return clock;
  }

  /** Runs {@code onClose} of listeners in reverse, then closes backends in reverse open order. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    PersistenceException failure = null;
    // maintenance first: a retention run must not race a subsystem unregistering its floor
    maintenance.values().forEach(Maintenance::stop);
    for (int i = opened.size() - 1; i >= 0; i--) {
      LifecycleListener l = opened.get(i);
      try {
        l.onClose(this);
      } catch (RuntimeException e) {
        failure = collect(failure, "Listener " + l.name() + " failed on close", e);
      }
    }
    opened.clear();
    failure = closeBackends(new ArrayList<>(backends.values()), failure);
    closeSink(eventSink, metrics);
    if (failure != null) {
      throw failure;
    }
  }

  private static void closeSink(AutoCloseable sink, MetricRegistry metrics) {
    if (sink == null) {
      return;
    }
    try {
      sink.close();
    } catch (Exception e) {
      log.warn("Closing the event sink failed: {}", e.toString());
    }
    metrics.remove(EventSinks.EMITTED);
    metrics.remove(EventSinks.FAILURES);
  }

  private PersistenceException closeBackends(
      List<InstrumentedBackend> list, PersistenceException failure) {
    for (int i = list.size() - 1; i >= 0; i--) {
      InstrumentedBackend b = list.get(i);
      try {
        b.close();
      } catch (RuntimeException e) {
        failure = collect(failure, "Closing backend '" + b.name() + "' failed", e);
      } finally {
        healthChecks.unregister(b.metricPrefix());
        metrics.removeMatching((n, m) -> n.startsWith(b.metricPrefix() + "."));
      }
    }
    return failure;
  }

  private static PersistenceException collect(
      PersistenceException failure, String what, RuntimeException e) {
    log.warn("{}: {}", what, e.toString());
    if (failure == null) {
      return new PersistenceException(what + ": " + e.getMessage(), e);
    }
    failure.addSuppressed(e);
    return failure;
  }

  private void ensureOpen() {
    if (closed) {
      throw new ClosedException(
          "this PersistenceRegistry", "open a new one (PersistenceRegistry.open) to use it again.");
    }
  }

  private void runOpenListeners() {
    for (LifecycleListener l : listeners) {
      try {
        l.onOpen(this);
        opened.add(l);
      } catch (RuntimeException e) {
        try {
          close();
        } catch (RuntimeException closeFailure) {
          e.addSuppressed(closeFailure);
        }
        throw e;
      }
    }
  }

  private static Map<String, Object> recoveryFields(
      String type, Durability durability, long millis) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("subsystem", "backend");
    f.put("backend-type", type);
    f.put("durability", durability.configName());
    f.put("duration-ms", millis);
    return f;
  }

  static Config withReference(Config config, ClassLoader cl) {
    return config.withFallback(ConfigFactory.defaultReference(cl)).resolve();
  }

  /** Options for opening a registry. Not thread-safe; use once. */
  public static final class Builder {
    private MetricRegistry metrics = new MetricRegistry();
    private HealthCheckRegistry healthChecks = new HealthCheckRegistry();
    private Clock clock = Clock.systemUTC();
    private Path baseDirectory;
    private Function<String, Encryption> encryption = name -> Encryption.NONE;
    private final List<LifecycleListener> listeners = new ArrayList<>();
    private ClassLoader classLoader;
    private Events events; // null: as cairn.events configures
    private Events resolvedEvents;
    private AutoCloseable openedSink;
    private boolean backgroundMaintenance = true;

    private Builder() {}

    /**
     * The structured event sink for the registry and every backend it opens, instead of the one
     * {@code cairn.events} configures (which is then not opened).
     */
    public Builder events(Events events) {
      this.events = Objects.requireNonNull(events, "events");
      return this;
    }

    /**
     * Whether the registry runs each backend's {@code maintenance} tasks on its own thread (default
     * true). A tool that opens backends briefly (the {@code cairn} command) or a test that drives
     * {@link Maintenance#runDue()} itself can turn the threads off; the tasks stay configured.
     */
    public Builder backgroundMaintenance(boolean on) {
      this.backgroundMaintenance = on;
      return this;
    }

    public Builder metrics(MetricRegistry metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

    public Builder healthChecks(HealthCheckRegistry healthChecks) {
      this.healthChecks = Objects.requireNonNull(healthChecks, "healthChecks");
      return this;
    }

    /** Clock for TTL and timestamps in every backend. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Directory that relative {@code data-dir} and {@code cairn.data-root} resolve against. */
    public Builder baseDirectory(Path dir) {
      this.baseDirectory = dir.toAbsolutePath();
      return this;
    }

    /** Encryption hook per backend name. */
    public Builder encryption(Function<String, Encryption> perBackend) {
      this.encryption = Objects.requireNonNull(perBackend, "perBackend");
      return this;
    }

    public Builder listener(LifecycleListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** Class loader used to find providers and reference.conf; defaults to the context loader. */
    public Builder classLoader(ClassLoader classLoader) {
      this.classLoader = classLoader;
      return this;
    }

    /**
     * Validates {@code config}, opens every backend and runs the listeners' {@code onOpen}.
     *
     * @throws ConfigurationException listing every configuration problem; nothing is opened
     */
    public PersistenceRegistry open(Config config) {
      ClassLoader cl =
          classLoader != null ? classLoader : Thread.currentThread().getContextClassLoader();
      Config resolved = withReference(config, cl);
      Map<String, StorageBackendProvider> providers = Providers.load(cl);
      List<ConfigProblem> problems = new ArrayList<>();
      List<BackendSpec> specs =
          BackendConfigValidator.read(resolved, providers, baseDirectory, problems);
      EventSinks.Spec sinkSpec = EventSinks.read(resolved, baseDirectory, problems);
      if (!problems.isEmpty()) {
        throw new ConfigurationException(problems);
      }
      EventSinks.JsonLines sink = null;
      if (events != null) {
        resolvedEvents = events;
      } else if (sinkSpec != null) {
        sink = EventSinks.open(sinkSpec, clock, metrics);
        resolvedEvents = sink;
      } else {
        resolvedEvents = Events.NONE;
      }
      openedSink = sink;
      Events events = resolvedEvents;
      Map<String, InstrumentedBackend> open = new LinkedHashMap<>();
      Map<String, Runnable> keyChecks = new LinkedHashMap<>();
      Map<String, java.util.function.Consumer<Path>> keyFiles = new LinkedHashMap<>();
      Map<String, Maintenance> upkeep = new LinkedHashMap<>();
      PersistenceRegistry registry = null;
      try {
        for (BackendSpec spec : specs) {
          Encryption hook = encryption.apply(spec.name());
          if (spec.encryption().isPresent()) {
            if (hook.enabled()) {
              throw new ConfigurationException(
                  "Backend '"
                      + spec.name()
                      + "' has both an encryption section and an encryption hook given to the"
                      + " registry builder: keep one");
            }
            List<ConfigProblem> keyProblems = new ArrayList<>();
            hook = spec.encryption().get().open(spec.name(), keyProblems);
            if (!keyProblems.isEmpty()) {
              throw new ConfigurationException(keyProblems);
            }
          }
          BackendContext ctx =
              BackendContext.builder(spec.name(), spec.provider().type())
                  .config(spec.merged())
                  .dataDir(spec.dataDir())
                  .durability(spec.durability())
                  .metrics(metrics)
                  .clock(clock)
                  .encryption(hook)
                  .events(events)
                  .build();
          long openStarted = System.nanoTime();
          StorageBackend raw = spec.provider().open(ctx);
          long openMillis = (System.nanoTime() - openStarted) / 1_000_000;
          InstrumentedBackend b;
          try {
            if (ctx.encryption().enabled() && !raw.capabilities().contains(Capability.ENCRYPTION)) {
              // never silent: a backend that ignores the hook would write plaintext
              throw new ConfigurationException(
                  "Backend '"
                      + spec.name()
                      + "' of type "
                      + spec.provider().type()
                      + " was given an encryption hook but does not declare "
                      + Capability.ENCRYPTION
                      + ", so it would store values in clear; nothing was written. Use a backend"
                      + " type that honours encryption (every backend built on"
                      + " io.cairn.persistence.spi.EngineBackend does), or configure none.");
            }
            HashedKeys hashedKeys = null;
            if (spec.encryption().isPresent()) {
              BackendEncryption be = spec.encryption().get();
              be.checkKeys(spec.name(), hook, spec.dataDir(), raw);
              hashedKeys = be.hashedKeys(spec.name(), hook, spec.dataDir(), raw);
              Encryption keys = hook;
              keyFiles.put(spec.name(), target -> be.copyKeyFiles(spec.dataDir(), target));
              keyChecks.put(
                  spec.name(), () -> be.resealKeyCheck(spec.name(), keys, spec.dataDir(), raw));
            }
            b =
                new InstrumentedBackend(
                    raw,
                    metrics,
                    ctx.metricPrefix(),
                    spec.limits(),
                    ctx.encryption().enabled(),
                    hashedKeys);
          } catch (RuntimeException e) {
            try {
              raw.close();
            } catch (RuntimeException closeFailure) {
              e.addSuppressed(closeFailure);
            }
            throw e;
          }
          open.put(spec.name(), b);
          Maintenance m =
              new Maintenance(b, spec.maintenance(), clock, metrics, ctx.metricPrefix(), events);
          upkeep.put(spec.name(), m);
          b.provide(RetentionFloors.class, m.floors());
          b.provide(Events.class, events);
          Encryption encryptionHook = ctx.encryption();
          if (encryptionHook.primaryKeyMessages() >= 0) {
            metrics.gauge(
                ctx.metricPrefix() + ".encryption.primary-key-messages",
                () -> (com.codahale.metrics.Gauge<Long>) encryptionHook::primaryKeyMessages);
          }
          healthChecks.register(
              ctx.metricPrefix(),
              new HealthCheck() {
                @Override
                protected Result check() {
                  Result r = b.health();
                  if (r.isHealthy()) {
                    // e.g. a key near its message limit (the hook names key and what to run)
                    java.util.Optional<String> keys = encryptionHook.warning();
                    if (keys.isPresent()) {
                      return Result.unhealthy(keys.get());
                    }
                  }
                  return r.isHealthy() ? m.unhealthyReason().map(Result::unhealthy).orElse(r) : r;
                }
              });
          log.info("Opened {} (durability {})", ctx.describe(), spec.durability().configName());
          events.emit(
              io.cairn.persistence.spi.EventType.RECOVERY,
              spec.name(),
              recoveryFields(spec.provider().type(), spec.durability(), openMillis));
        }
        registry =
            new PersistenceRegistry(
                this,
                resolved,
                open,
                Map.copyOf(keyChecks),
                Map.copyOf(keyFiles),
                java.util.Collections.unmodifiableMap(upkeep));
      } catch (RuntimeException e) {
        List<InstrumentedBackend> list = new ArrayList<>(open.values());
        for (int i = list.size() - 1; i >= 0; i--) {
          try {
            list.get(i).close();
          } catch (RuntimeException closeFailure) {
            e.addSuppressed(closeFailure);
          } finally {
            healthChecks.unregister(list.get(i).metricPrefix());
            String prefix = list.get(i).metricPrefix() + ".";
            metrics.removeMatching((n, m) -> n.startsWith(prefix));
          }
        }
        closeSink(sink, metrics);
        throw e;
      }
      registry.runOpenListeners();
      if (backgroundMaintenance) {
        upkeep.values().forEach(Maintenance::start); // after listeners registered their floors
      }
      return registry;
    }
  }
}
