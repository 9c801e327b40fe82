package io.cairn.guice;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheckRegistry;
import com.google.inject.AbstractModule;
import com.google.inject.Key;
import com.google.inject.Module;
import com.google.inject.Provider;
import com.google.inject.Singleton;
import com.google.inject.name.Names;
import com.google.inject.util.Types;
import com.typesafe.config.Config;
import io.cairn.cache.TieredCache;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.queue.DurableQueue;
import io.cairn.raft.RaftStorage;
import io.cairn.routing.RouteTable;
import io.cairn.runtime.Cairn;
import io.cairn.runtime.ModuleEntry;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.util.Objects;
import java.util.function.Function;

/**
 * Guice wiring for everything a Cairn configuration selects: a thin layer over {@link Cairn}
 * ({@code cairn-runtime}, which needs no DI container), so injected objects are exactly those
 * {@link Cairn} gives without Guice. {@link jakarta.inject.Named} and {@link
 * com.google.inject.name.Named} both select the bindings below. Built from a {@link Config} (or a
 * {@link Cairn.Builder} carrying options such as the base directory), it binds:
 *
 * <ul>
 *   <li>{@link Cairn} (the start/stop service; also the deprecated {@code io.cairn.guice.Cairn}
 *       view of it) and {@link PersistenceRegistry};
 *   <li>{@code @}{@link CairnMetrics} {@link MetricRegistry} and {@code @CairnMetrics} {@link
 *       HealthCheckRegistry}: qualified, so an application binding its own registries has no
 *       duplicate binding (to share one, pass it to {@link Cairn.Builder#metrics});
 *   <li>for module {@code queue}: each queue under {@code cairn.queues} as {@code @Named("<name>")}
 *       {@code DurableQueue} (raw type), {@code DurableQueue<T>} for its payload type {@code T} and
 *       {@code DurableQueue<byte[]>} (a raw-bytes view of the same stored queue). {@code T} and its
 *       codec come from {@link Cairn.Builder#queueCodec}; without one, {@code T} is {@code byte[]};
 *   <li>for module {@code cache}: each cache under {@code cairn.caches} as {@code @Named("<name>")}
 *       {@code TieredCache} (raw type) and {@code TieredCache<K, V>}, the same single instance;
 *       {@code K}, {@code V} and codecs from {@link Cairn.Builder#cacheCodecs}, else {@code String}
 *       and {@code byte[]};
 *   <li>for module {@code routing}: each table under {@code cairn.route-tables} as
 *       {@code @Named("<name>") RouteTable}. A route table has no codec: routes are typed already,
 *       so the raw and the typed binding are the same {@code RouteTable};
 *   <li>for module {@code raft}: each configured Raft group as {@code @Named("<group>")
 *       RaftStorage}, the one storage instance of that group;
 *   <li>every class named in {@code cairn.modules}, installed as a Guice module.
 * </ul>
 *
 * <h2>When things open</h2>
 *
 * The configuration is validated when the injector is created; subsystems open (in recovery order:
 * queues, caches, route tables, Raft groups) the first time any Cairn object is provided — at
 * injector creation in {@link com.google.inject.Stage#PRODUCTION}, where these singletons are
 * created eagerly. Call {@code injector.getInstance(Cairn.class).close()} on shutdown (the injector
 * closes nothing); it is idempotent.
 *
 * <h2>Errors</h2>
 *
 * Every configuration problem — a bad setting, a queue naming an unknown backend, a module class
 * that does not exist or is not a Guice module — becomes a Guice error, so {@code
 * Guice.createInjector} throws one {@link com.google.inject.CreationException} listing them all,
 * each with its path and file:line.
 *
 * <p>Uses no method interceptors (AOP), so it works where Guice runs without bytecode generation.
 */
public final class CairnModule extends AbstractModule {
  private final Cairn.Builder builder;

  /** A module for {@code config} with default options. */
  public CairnModule(Config config) {
    this(Cairn.builder(config));
  }

  /** A module for a configured {@link Cairn.Builder}; {@code build()} is called by this module. */
  public CairnModule(Cairn.Builder builder) {
    this.builder = Objects.requireNonNull(builder, "builder");
  }

  /**
   * A module for a builder of the deprecated {@code io.cairn.guice.Cairn}.
   *
   * @deprecated build with {@link Cairn#builder(Config)} and use {@link
   *     #CairnModule(Cairn.Builder)}.
   */
  @Deprecated(since = "0.2", forRemoval = true)
  @SuppressWarnings("removal")
  public CairnModule(io.cairn.guice.Cairn.Builder builder) {
    this(Objects.requireNonNull(builder, "builder").runtime());
  }

  @Override
  protected void configure() {
    Cairn cairn;
    try {
      cairn = builder.build();
    } catch (ConfigurationException e) {
      if (e.problems().isEmpty()) {
        addError("%s", e.getMessage());
      }
      for (ConfigProblem p : e.problems()) {
        addError("Invalid Cairn configuration: %s", p);
      }
      return;
    }
    bind(Cairn.class).toInstance(cairn);
    bindDeprecatedView(cairn);
    bind(MetricRegistry.class).annotatedWith(CairnMetrics.class).toInstance(cairn.metrics());
    bind(HealthCheckRegistry.class)
        .annotatedWith(CairnMetrics.class)
        .toInstance(cairn.healthChecks());
    bind(PersistenceRegistry.class)
        .toProvider(new Started<>(cairn, Cairn::registry))
        .in(Singleton.class);
    // each *Names() is empty unless its module is listed in cairn.modules
    bindQueues(cairn);
    bindCaches(cairn);
    bindRouting(cairn);
    bindRaft(cairn);
    for (ModuleEntry entry : cairn.extensionModules()) {
      Module m = instantiate(entry, cairn);
      if (m != null) {
        install(m);
      }
    }
  }

  private void bindRouting(Cairn cairn) {
    for (String name : cairn.routeTableNames()) {
      bindNamed(RouteTable.class, name, cairn, c -> c.routeTable(name));
    }
  }

  @SuppressWarnings("removal")
  private void bindDeprecatedView(Cairn cairn) {
    bind(io.cairn.guice.Cairn.class).toInstance(io.cairn.guice.Cairn.of(cairn));
  }

  private void bindRaft(Cairn cairn) {
    for (String group : cairn.raftGroupNames()) {
      bindNamed(RaftStorage.class, group, cairn, c -> c.raftStorage(group));
    }
  }

  private void bindQueues(Cairn cairn) {
    for (String name : cairn.queueNames()) {
      Class<?> payload = cairn.queuePayloadType(name);
      Function<Cairn, Object> typed = c -> c.queue(name, payload);
      bindNamed(DurableQueue.class, name, cairn, typed);
      bindNamed(Types.newParameterizedType(DurableQueue.class, payload), name, cairn, typed);
      if (payload != byte[].class) {
        bindNamed(
            Types.newParameterizedType(DurableQueue.class, byte[].class),
            name,
            cairn,
            c -> c.queue(name));
      }
    }
  }

  private void bindCaches(Cairn cairn) {
    for (String name : cairn.cacheNames()) {
      Function<Cairn, Object> get = c -> c.cache(name);
      bindNamed(TieredCache.class, name, cairn, get);
      bindNamed(
          Types.newParameterizedType(
              TieredCache.class, cairn.cacheKeyType(name), cairn.cacheValueType(name)),
          name,
          cairn,
          get);
    }
  }

  /** Binds {@code @Named(name) type} to what {@code get} returns from the started Cairn. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private void bindNamed(
      java.lang.reflect.Type type, String name, Cairn cairn, Function<Cairn, ?> get) {
    Key key = Key.get(type, Names.named(name));
    bind(key).toProvider(new Started(cairn, get)).in(Singleton.class);
  }

  /** Loads and constructs a third-party module, or records a Guice error and returns null. */
  private Module instantiate(ModuleEntry entry, Cairn cairn) {
    Class<?> type;
    try {
      type = Class.forName(entry.name(), false, classLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      addError(
          "%s",
          entry.problem(
              "the class name of a Guice module on the class path",
              "no loadable class " + entry.name() + " (" + e + ")"));
      return null;
    }
    if (!Module.class.isAssignableFrom(type)) {
      addError(
          "%s",
          entry.problem(
              "a class implementing com.google.inject.Module",
              type.getName() + ", which is not a Guice module"));
      return null;
    }
    try {
      Constructor<?> withConfig = constructor(type, Config.class);
      Object instance =
          withConfig != null
              ? withConfig.newInstance(cairn.config())
              : requireNoArg(type).newInstance();
      return (Module) instance;
    } catch (NoSuchMethodException e) {
      addError(
          "%s",
          entry.problem(
              "a public constructor taking com.typesafe.config.Config or no arguments",
              type.getName() + " without one"));
    } catch (InvocationTargetException e) {
      addError(
          "%s",
          entry.problem(
              "a module whose constructor succeeds", type.getName() + " threw " + e.getCause()));
    } catch (ReflectiveOperationException e) {
      addError(
          "%s", entry.problem("an instantiable public module class", type.getName() + ": " + e));
    }
    return null;
  }

  private static ClassLoader classLoader() {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    return loader != null ? loader : CairnModule.class.getClassLoader();
  }

  private static Constructor<?> constructor(Class<?> type, Class<?> param) {
    try {
      return type.getConstructor(param);
    } catch (NoSuchMethodException e) {
      return null;
    }
  }

  private static Constructor<?> requireNoArg(Class<?> type) throws NoSuchMethodException {
    return type.getConstructor();
  }

  /** Provides an object from a started {@link Cairn}, starting it on first use. */
  private static final class Started<T> implements Provider<T> {
    private final Cairn cairn;
    private final Function<Cairn, T> get;

    Started(Cairn cairn, Function<Cairn, T> get) {
      this.cairn = cairn;
      this.get = get;
    }

    @Override
    public T get() {
      return get.apply(cairn.start());
    }
  }
}
