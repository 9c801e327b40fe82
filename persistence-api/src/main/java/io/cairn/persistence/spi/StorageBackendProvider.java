package io.cairn.persistence.spi;

import io.cairn.persistence.StorageBackend;

/**
 * Creates backends of one type. Registered through {@code
 * META-INF/services/io.cairn.persistence.spi.StorageBackendProvider} and selected by {@code type =
 * ...} under {@code cairn.backends.<name>}.
 *
 * <h2>Rules</h2>
 *
 * <ul>
 *   <li>Must have a public no-argument constructor; must be stateless and thread-safe.
 *   <li>The module ships a {@code reference.conf} declaring every type-specific key with its
 *       default under {@code cairn.backend-defaults.<type>}, each commented. Keys not declared
 *       there (nor common to all backends) are configuration errors.
 *   <li>{@link #validate} reads every type-specific setting and reports problems without throwing;
 *       {@link #open} may then assume the settings are valid.
 *   <li>{@link #open} either returns a fully open backend or throws and leaves nothing open: no
 *       lock, handle or thread.
 * </ul>
 */
public interface StorageBackendProvider {
  /** The type name used in configuration, e.g. {@code sqlite}: lower-case, unique. */
  String type();

  /** One line for operators listing the known types. */
  default String description() {
    return type();
  }

  /**
   * Checks this type's settings (the merged instance config, defaults included). Add one problem
   * per bad setting to {@code settings}; do not throw for bad settings.
   */
  default void validate(Settings settings) {}

  /**
   * Opens (creating if needed) the backend described by {@code context}.
   *
   * @throws io.cairn.persistence.BackendLockedException if the data directory is in use
   * @throws io.cairn.persistence.StoreCorruptedException if the files are corrupt and the
   *     configured policy is to refuse
   */
  StorageBackend open(BackendContext context);
}
