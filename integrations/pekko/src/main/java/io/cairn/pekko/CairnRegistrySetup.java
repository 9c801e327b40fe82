package io.cairn.pekko;

import io.cairn.persistence.PersistenceRegistry;
import java.util.Objects;
import org.apache.pekko.actor.setup.Setup;

/**
 * Hands an application's own {@link PersistenceRegistry} to the Cairn Pekko plugins of one actor
 * system, instead of letting them open one from the actor system's {@code cairn} configuration:
 *
 * <pre>{@code
 * PersistenceRegistry registry = PersistenceRegistry.open(config);   // the application owns it
 * ActorSystem system = ActorSystem.create("app",
 *     ActorSystemSetup.create(BootstrapSetup.create(config), CairnRegistrySetup.create(registry)));
 * ...
 * system.terminate(); system.getWhenTerminated().toCompletableFuture().join();
 * registry.close();                                                   // after the actor system
 * }</pre>
 *
 * <p>The plugins never close a registry handed in this way; the application closes it after the
 * actor system has terminated. Use this to share backends between Pekko and other Cairn users (a
 * durable queue, a cache) in one process: a durable backend can be open only once.
 */
public final class CairnRegistrySetup extends Setup {
  private final PersistenceRegistry registry;

  private CairnRegistrySetup(PersistenceRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  /** A setup carrying {@code registry}, which the caller keeps owning and closes. */
  public static CairnRegistrySetup create(PersistenceRegistry registry) {
    return new CairnRegistrySetup(registry);
  }

  /** The registry handed in. */
  public PersistenceRegistry registry() {
    return registry;
  }
}
