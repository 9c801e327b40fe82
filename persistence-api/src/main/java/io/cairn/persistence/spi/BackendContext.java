package io.cairn.persistence.spi;

import com.codahale.metrics.MetricRegistry;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Objects;

/**
 * Everything a provider needs to open one backend instance. Built by the registry from
 * configuration; tests build one directly with {@link #builder(String, String)}. Immutable and
 * thread-safe.
 */
public final class BackendContext {
  private final String name;
  private final String type;
  private final Config config;
  private final Path dataDir;
  private final Durability durability;
  private final MetricRegistry metrics;
  private final Clock clock;
  private final Encryption encryption;
  private final Events events;

  private BackendContext(Builder b) {
    this.name = b.name;
    this.type = b.type;
    this.config = b.config;
    this.dataDir = b.dataDir;
    this.durability = b.durability;
    this.metrics = b.metrics;
    this.clock = b.clock;
    this.encryption = b.encryption;
    this.events = b.events;
  }

  /** Instance name, the key under {@code cairn.backends}. */
  public String name() {
    return name;
  }

  /** Provider type. */
  public String type() {
    return type;
  }

  /**
   * The instance's settings: its {@code cairn.backends.<name>} subtree over the type's defaults
   * from {@code cairn.backend-defaults.<type>} and the common ones. Already validated.
   */
  public Config config() {
    return config;
  }

  /** Directory the backend owns (absolute). It may not exist yet. */
  public Path dataDir() {
    return dataDir;
  }

  public Durability durability() {
    return durability;
  }

  /**
   * The one metric registry of the process. Backends register engine gauges under {@link
   * #metricPrefix()}; operation timers are added by the registry, not by backends.
   */
  public MetricRegistry metrics() {
    return metrics;
  }

  /**
   * {@code cairn.backends.<name>}: prefix for this backend's metrics and its health check. Under
   * {@code cairn.backends} so that no backend name can collide with a subsystem's metrics ({@code
   * cairn.queues.*}, {@code cairn.caches.*}); a name's dots become {@code ':'} ({@link
   * MetricNames}) so that no backend name can reach another's metrics either.
   */
  public String metricPrefix() {
    return "cairn.backends." + MetricNames.element(name); // a dotted name stays one element
  }

  /** Clock for TTL and timestamps; tests inject a manual one. */
  public Clock clock() {
    return clock;
  }

  public Encryption encryption() {
    return encryption;
  }

  /**
   * The structured event sink ({@code cairn.events}); {@link Events#NONE} when off. Backends emit
   * what only they see (recovery on open, corruption, quarantine, lock waits); never keys or
   * values.
   */
  public Events events() {
    return events;
  }

  /** A short description for messages: {@code sqlite backend 'main' at /data/main}. */
  public String describe() {
    return type + " backend '" + name + "' at " + dataDir;
  }

  public static Builder builder(String name, String type) {
    return new Builder(name, type);
  }

  /** Builder; every field but name and type has a default. */
  public static final class Builder {
    private final String name;
    private final String type;
    private Config config = ConfigFactory.empty();
    private Path dataDir;
    private Durability durability = Durability.NORMAL;
    private MetricRegistry metrics = new MetricRegistry();
    private Clock clock = Clock.systemUTC();
    private Encryption encryption = Encryption.NONE;
    private Events events = Events.NONE;

    private Builder(String name, String type) {
      this.name = ArgumentChecks.check("backend", name);
      this.type = Objects.requireNonNull(type, "type");
    }

    public Builder config(Config config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    public Builder dataDir(Path dataDir) {
      this.dataDir = dataDir.toAbsolutePath().normalize();
      return this;
    }

    public Builder durability(Durability durability) {
      this.durability = Objects.requireNonNull(durability, "durability");
      return this;
    }

    public Builder metrics(MetricRegistry metrics) {
      this.metrics = Objects.requireNonNull(metrics, "metrics");
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public Builder encryption(Encryption encryption) {
      this.encryption = Objects.requireNonNull(encryption, "encryption");
      return this;
    }

    public Builder events(Events events) {
      this.events = Objects.requireNonNull(events, "events");
      return this;
    }

    public BackendContext build() {
      if (dataDir == null) {
        dataDir = Path.of("data", name).toAbsolutePath().normalize();
      }
      return new BackendContext(this);
    }
  }
}
