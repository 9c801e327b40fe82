package io.cairn.guice;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheckRegistry;
import com.typesafe.config.Config;
import io.cairn.cache.TieredCache;
import io.cairn.persistence.Codec;
import io.cairn.persistence.LifecycleListener;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.queue.DurableQueue;
import io.cairn.routing.RouteTable;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The plain-Java entry point's old home, kept so code written against 0.1 compiles and runs: every
 * method delegates to {@link io.cairn.runtime.Cairn} (module {@code cairn-runtime}, which needs no
 * DI container), and {@link CairnModule} binds both. Removed in the next release.
 *
 * @deprecated use {@link io.cairn.runtime.Cairn}: same methods, plus Raft groups.
 */
@Deprecated(since = "0.2", forRemoval = true)
public final class Cairn implements AutoCloseable {
  private final io.cairn.runtime.Cairn delegate;

  private Cairn(io.cairn.runtime.Cairn delegate) {
    this.delegate = delegate;
  }

  /** A view of {@code delegate} under the old name. */
  static Cairn of(io.cairn.runtime.Cairn delegate) {
    return new Cairn(Objects.requireNonNull(delegate, "delegate"));
  }

  /** The instance every call goes to. */
  public io.cairn.runtime.Cairn runtime() {
    return delegate;
  }

  /** See {@link io.cairn.runtime.Cairn#builder(Config)}. */
  public static Builder builder(Config config) {
    return new Builder(io.cairn.runtime.Cairn.builder(config));
  }

  /** See {@link io.cairn.runtime.Cairn#open(Path)}. */
  public static Cairn open(Path file) {
    return new Cairn(io.cairn.runtime.Cairn.open(file));
  }

  /** See {@link io.cairn.runtime.Cairn#open(Config)}. */
  public static Cairn open(Config config) {
    return new Cairn(io.cairn.runtime.Cairn.open(config));
  }

  public Config config() {
    return delegate.config();
  }

  public List<String> modules() {
    return delegate.modules();
  }

  public MetricRegistry metrics() {
    return delegate.metrics();
  }

  public HealthCheckRegistry healthChecks() {
    return delegate.healthChecks();
  }

  public Cairn start() {
    delegate.start();
    return this;
  }

  public void stop() {
    delegate.stop();
  }

  @Override
  public void close() {
    delegate.close();
  }

  public boolean isRunning() {
    return delegate.isRunning();
  }

  public PersistenceRegistry registry() {
    return delegate.registry();
  }

  public Set<String> routeTableNames() {
    return delegate.routeTableNames();
  }

  public RouteTable routeTable(String name) {
    return delegate.routeTable(name);
  }

  public Set<String> queueNames() {
    return delegate.queueNames();
  }

  public DurableQueue<byte[]> queue(String name) {
    return delegate.queue(name);
  }

  public <T> DurableQueue<T> queue(String name, Class<T> type) {
    return delegate.queue(name, type);
  }

  public Set<String> cacheNames() {
    return delegate.cacheNames();
  }

  public TieredCache<?, ?> cache(String name) {
    return delegate.cache(name);
  }

  public <K, V> TieredCache<K, V> cache(String name, Class<K> keyType, Class<V> valueType) {
    return delegate.cache(name, keyType, valueType);
  }

  @Override
  public String toString() {
    return delegate.toString();
  }

  /**
   * @deprecated use {@link io.cairn.runtime.Cairn.Builder}.
   */
  @Deprecated(since = "0.2", forRemoval = true)
  public static final class Builder {
    private final io.cairn.runtime.Cairn.Builder delegate;

    private Builder(io.cairn.runtime.Cairn.Builder delegate) {
      this.delegate = delegate;
    }

    /** The builder every call goes to. */
    public io.cairn.runtime.Cairn.Builder runtime() {
      return delegate;
    }

    public Builder metrics(MetricRegistry metrics) {
      delegate.metrics(metrics);
      return this;
    }

    public Builder healthChecks(HealthCheckRegistry healthChecks) {
      delegate.healthChecks(healthChecks);
      return this;
    }

    public Builder clock(Clock clock) {
      delegate.clock(clock);
      return this;
    }

    public Builder baseDirectory(Path dir) {
      delegate.baseDirectory(dir);
      return this;
    }

    public Builder listener(LifecycleListener listener) {
      delegate.listener(listener);
      return this;
    }

    public <T> Builder queueCodec(String queue, Class<T> type, Codec<T> codec) {
      delegate.queueCodec(queue, type, codec);
      return this;
    }

    public <K, V> Builder cacheCodecs(
        String cache,
        Class<K> keyType,
        Codec<K> keyCodec,
        Class<V> valueType,
        Codec<V> valueCodec) {
      delegate.cacheCodecs(cache, keyType, keyCodec, valueType, valueCodec);
      return this;
    }

    public Cairn build() {
      return new Cairn(delegate.build());
    }
  }
}
