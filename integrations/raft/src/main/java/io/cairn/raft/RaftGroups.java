package io.cairn.raft;

import com.typesafe.config.Config;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.Settings;
import java.util.SortedSet;

/**
 * The Raft groups of a configuration, for code that binds or opens them by name (dependency
 * injection, the runtime, the CLI). Stateless; thread-safe.
 */
public final class RaftGroups {
  /** The configuration path of the named groups. */
  public static final String PATH = RaftSettings.RAFT;

  private RaftGroups() {}

  /**
   * The names of the groups configured in {@code root}, sorted (not validated: the section
   * validator does that).
   */
  public static SortedSet<String> names(Config root) {
    return Settings.namedSections(Settings.withRenamedSections(root), PATH);
  }

  /**
   * Opens {@code group} as configured in the registry's configuration, with metrics: the same as
   * {@link RaftStorage#open(PersistenceRegistry, String)}.
   */
  public static RaftStorage open(PersistenceRegistry registry, String group) {
    return RaftStorage.open(registry, group);
  }
}
