package io.cairn.raft;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.Settings;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The Raft groups of a configuration ({@code cairn.raft-groups.<group>}; the deprecated spelling
 * {@code cairn.raft.<group>} still loads, with a warning naming the new path), for code that binds
 * or opens them by name (dependency injection, the CLI). Stateless; thread-safe.
 */
public final class RaftGroups {
  /** The configuration path of the named groups. */
  public static final String PATH = RaftSettings.RAFT;

  private RaftGroups() {}

  /**
   * The names of the groups configured in {@code root}, sorted (not validated; see {@link #all}).
   */
  public static SortedSet<String> names(Config root) {
    Config c = Settings.withRenamedSections(root);
    if (!c.hasPath(PATH) || c.getValue(PATH).valueType() != ConfigValueType.OBJECT) {
      return new TreeSet<>();
    }
    return new TreeSet<>(c.getObject(PATH).keySet());
  }

  /**
   * The validated settings of every configured group, sorted by name.
   *
   * @throws io.cairn.persistence.ConfigurationException naming every bad setting (path and
   *     file:line)
   */
  public static List<RaftSettings> all(Config root) {
    List<ConfigProblem> problems = new ArrayList<>();
    List<RaftSettings> out = RaftSettings.readAll(root, problems);
    Settings.throwIfAny(problems);
    return out;
  }

  /**
   * The validated settings of {@code group}; a group that is not configured gets {@code
   * cairn.raft-defaults}.
   *
   * @throws io.cairn.persistence.ConfigurationException naming every bad setting of the group
   */
  public static RaftSettings settings(Config root, String group) {
    List<ConfigProblem> problems = new ArrayList<>();
    RaftSettings s = RaftSettings.read(root, group, problems);
    Settings.throwIfAny(problems);
    return s;
  }

  /**
   * Opens {@code group} as configured in the registry's configuration, with metrics: the same as
   * {@link RaftStorage#open(PersistenceRegistry, String)}.
   */
  public static RaftStorage open(PersistenceRegistry registry, String group) {
    return RaftStorage.open(registry, group);
  }
}
