package io.cairn.backend.postgres;

import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Settings;
import io.cairn.persistence.spi.StorageBackendProvider;

/**
 * The {@code postgres} backend type: all of an instance's key-value namespaces, logs and snapshot
 * sets in one schema of a PostgreSQL database, reached through pgjdbc and a HikariCP pool. Several
 * processes may open the same schema at once (see {@link PostgresBackend}).
 *
 * <p>Settings live under {@code cairn.backend-defaults.postgres} (see this module's {@code
 * reference.conf}); {@code durability} maps to {@code synchronous_commit}: {@code full} → on,
 * {@code normal} and {@code none} → off. {@code data-dir} is not used. Stateless and thread-safe.
 */
public final class PostgresBackendProvider implements StorageBackendProvider {
  /** The type name used in configuration. */
  public static final String TYPE = "postgres";

  /** For ServiceLoader. */
  public PostgresBackendProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "PostgreSQL (pgjdbc + HikariCP): one schema shared by many instances";
  }

  /** Reads every {@code postgres} setting and reports each bad one (secrets never shown). */
  @Override
  public void validate(Settings settings) {
    PostgresSettings.read(settings);
  }

  /**
   * Opens the backend, creating or migrating its schema.
   *
   * @throws PostgresUnavailableException if the server cannot be reached within {@code
   *     connect-timeout}
   * @throws io.cairn.persistence.StorageEngineException if the schema is newer than this code or
   *     cannot be created
   */
  @Override
  public StorageBackend open(BackendContext context) {
    return PostgresBackend.open(context);
  }
}
