package io.cairn.pekko;

import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.util.Optional;
import org.apache.pekko.actor.AbstractExtensionId;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.Extension;
import org.apache.pekko.actor.ExtensionIdProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Cairn {@link PersistenceRegistry} of one actor system, shared by every Cairn journal,
 * snapshot store and read journal plugin of that system.
 *
 * <p><b>Who opens and closes it.</b> If the actor system was created with a {@link
 * CairnRegistrySetup}, that registry is used and never closed here: the application owns it.
 * Otherwise the registry is opened, on first use by a plugin, from the actor system's own
 * configuration (its {@code cairn.backends} section, the same HOCON the application passed to
 * {@code ActorSystem.create}), and closed when the actor system terminates, after every actor (the
 * plugins included) has stopped, so RocksDB handles, SQLite connections and data-directory locks
 * are released with the actor system. Since a durable backend can be opened only once at a time,
 * two actor systems in one process that name the same data directory must share one registry
 * through {@link CairnRegistrySetup}; the second open otherwise fails with {@link
 * io.cairn.persistence.BackendLockedException}.
 *
 * <p>Thread-safe.
 */
public final class CairnPekko implements Extension {
  private static final Logger log = LoggerFactory.getLogger(CairnPekko.class);

  /** The extension id. */
  public static final Id ID = new Id();

  private final PersistenceRegistry registry;
  private final boolean owned;

  private CairnPekko(PersistenceRegistry registry, boolean owned) {
    this.registry = registry;
    this.owned = owned;
  }

  /** The extension of {@code system}, opening its registry if this is the first use. */
  public static CairnPekko get(ActorSystem system) {
    return ID.get(system);
  }

  /** The registry the plugins of this actor system use. */
  public PersistenceRegistry registry() {
    return registry;
  }

  /** Whether the registry was opened here (and is closed when the actor system terminates). */
  public boolean ownsRegistry() {
    return owned;
  }

  /**
   * The backend a plugin's {@code backend} setting names: {@code name}, or the registry's default
   * backend when {@code name} is empty.
   *
   * @throws ConfigurationException naming {@code pluginPath} and the configured backends
   */
  StorageBackend backend(String name, String pluginPath) {
    try {
      return name.isEmpty() ? registry.defaultBackend() : registry.backend(name);
    } catch (ConfigurationException e) {
      throw new ConfigurationException(
          pluginPath + ".backend = \"" + name + "\": " + e.getMessage(), e);
    }
  }

  /** Creates the extension; see the class comment for the registry's owner. */
  public static final class Id extends AbstractExtensionId<CairnPekko>
      implements ExtensionIdProvider {
    private Id() {}

    @Override
    public CairnPekko createExtension(ExtendedActorSystem system) {
      Optional<CairnRegistrySetup> setup = system.settings().setup().get(CairnRegistrySetup.class);
      if (setup.isPresent()) {
        return new CairnPekko(setup.get().registry(), false);
      }
      PersistenceRegistry registry =
          PersistenceRegistry.builder()
              .classLoader(system.dynamicAccess().classLoader())
              .open(system.settings().config());
      Runnable close =
          () -> {
            try {
              registry.close();
              log.info("Closed the Cairn registry of actor system '{}'", system.name());
            } catch (RuntimeException e) {
              log.error(
                  "Closing the Cairn registry of actor system '{}' failed: {}", system.name(), e);
            }
          };
      try {
        system.registerOnTermination(close);
      } catch (RuntimeException e) { // the system is already terminating: do not leak the handles
        close.run();
        throw e;
      }
      return new CairnPekko(registry, true);
    }

    @Override
    public Id lookup() {
      return ID;
    }
  }
}
