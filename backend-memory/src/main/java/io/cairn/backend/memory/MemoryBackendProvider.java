package io.cairn.backend.memory;

import io.cairn.persistence.Capability;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.EngineBackend;
import io.cairn.persistence.spi.Settings;
import io.cairn.persistence.spi.StorageBackendProvider;
import java.time.Duration;

/**
 * Provider of type {@code memory}: a heap-only backend that implements the whole SPI and keeps
 * nothing across close. It is the reference implementation the TCK runs first.
 *
 * <p>Durability is {@code none} and nothing else: {@link #validate} reports a problem for an
 * instance configured with {@code durability = normal} or {@code full}, and {@link #open} refuses a
 * context asking for them. Stateless and thread-safe, as the SPI requires.
 */
public final class MemoryBackendProvider implements StorageBackendProvider {
  /** The configuration type name, {@code memory}. */
  public static final String TYPE = "memory";

  /** Used by ServiceLoader. */
  public MemoryBackendProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "memory - heap only, nothing survives close (durability none)";
  }

  /** Configuration key of the largest snapshot one save accepts; 0 = a quarter of the heap. */
  static final String MAX_SNAPSHOT_BYTES = "max-snapshot-bytes";

  /**
   * Configuration key: whether writes of different keys (logs, snapshot sets) run concurrently
   * ({@code true}, the default) or one at a time ({@code false}, the base's behaviour before
   * engines could opt in; kept for comparison and to rule the striping out when chasing a problem).
   */
  static final String CONCURRENT_WRITES = "concurrent-writes";

  static final String SWEEPER_INTERVAL = "sweeper-interval";

  /** The {@code sweeper-interval} of reference.conf, also for a context built without it. */
  static final Duration DEFAULT_SWEEPER_INTERVAL = Duration.ofMinutes(1);

  /**
   * Reports {@code durability} other than {@code none}, a bad snapshot limit, a non-boolean {@code
   * concurrent-writes} and a {@code sweeper-interval} that is no duration with a unit as problems.
   */
  @Override
  public void validate(Settings settings) {
    settings.bytes(MAX_SNAPSHOT_BYTES, 0, 0);
    settings.bool(CONCURRENT_WRITES, true);
    settings.duration(SWEEPER_INTERVAL, Duration.ZERO, DEFAULT_SWEEPER_INTERVAL);
    com.typesafe.config.Config c = settings.config();
    if (!c.hasPath("durability")
        || !(c.getValue("durability").unwrapped() instanceof String value)) {
      return; // missing or not a string: the common validation reports it
    }
    for (Durability d : Durability.values()) {
      if (d != Durability.NONE && d.configName().equalsIgnoreCase(value.trim())) {
        settings.problem(
            "durability",
            "none (the memory backend keeps data only on the heap and loses it on close or"
                + " restart; use sqlite or rocksdb for durable data)",
            d.configName());
      }
    }
  }

  /**
   * Opens an empty memory backend.
   *
   * @throws ConfigurationException if the context asks for a durability other than {@code NONE}
   */
  @Override
  public StorageBackend open(BackendContext context) {
    if (context.durability() != Durability.NONE) {
      throw new ConfigurationException(
          "Memory backend '"
              + context.name()
              + "' was asked for durability "
              + context.durability().configName()
              + " but keeps data only on the heap; configure durability = none (or"
              + " BackendContext.Builder.durability(Durability.NONE)) or choose a durable backend"
              + " type.");
    }
    boolean concurrent =
        !context.config().hasPath(CONCURRENT_WRITES)
            || context.config().getBoolean(CONCURRENT_WRITES);
    return open(context, new MemoryEngine(concurrent));
  }

  /**
   * Opens a memory backend over {@code engine}: the shared base stores ({@link EngineBackend}) do
   * everything but keep the records. No {@link Capability#LARGE_SNAPSHOTS}: a snapshot is held on
   * the heap, so one save accepts at most {@code max-snapshot-bytes} (default a quarter of the
   * maximum heap) and a bigger one throws {@link IllegalArgumentException} naming the key, before
   * the JVM could run out of memory. Spilling snapshots to temporary files was rejected: this
   * backend's promise is that it writes no file, it would then own disk space, permissions and
   * clean-up after a killed JVM, and the durable backends already stream snapshots of any size.
   */
  static StorageBackend open(BackendContext context, MemoryEngine engine) {
    long limit =
        context.config().hasPath(MAX_SNAPSHOT_BYTES)
            ? context.config().getBytes(MAX_SNAPSHOT_BYTES)
            : 0;
    return EngineBackend.open(
        context,
        TYPE,
        engine,
        EngineBackend.Options.builder(Durability.NONE)
            .maxSnapshotBytes(
                limit > 0 ? limit : Runtime.getRuntime().maxMemory() / 4, MAX_SNAPSHOT_BYTES)
            .description("heap only")
            .sweeper(
                context.config().hasPath(SWEEPER_INTERVAL)
                    ? context.config().getDuration(SWEEPER_INTERVAL)
                    : DEFAULT_SWEEPER_INTERVAL)
            .build());
  }
}
