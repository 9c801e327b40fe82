package io.cairn.raft;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.spi.Settings;
import java.util.List;

/**
 * The validated settings of one Raft group, read from {@code cairn.raft-groups.<group>} (or the
 * deprecated {@code cairn.raft.<group>}) over {@code cairn.raft-defaults}. The one place these keys
 * are read; obtain instances through {@link RaftGroups}.
 *
 * @param group the group name
 * @param backend the backend holding the group (resolved from the default when not set)
 * @param snapshotChunkSize the largest snapshot chunk stored, in bytes
 */
public record RaftSettings(String group, String backend, int snapshotChunkSize) {
  static final String RAFT = "cairn.raft-groups";
  static final String DEFAULTS = "cairn.raft-defaults";
  static final int MAX_CHUNK = KeyValueStore.MAX_VALUE_BYTES - 13;
  private static final Settings.NamedSection SECTION =
      new Settings.NamedSection(
          RAFT,
          DEFAULTS,
          "Raft group",
          "{ backend = main, snapshot-chunk-size = 16MiB }",
          100,
          false);

  /**
   * Every group configured under {@code cairn.raft-groups} (or the deprecated {@code cairn.raft}),
   * validated; problems added, not thrown.
   */
  static List<RaftSettings> readAll(Config root, List<ConfigProblem> problems) {
    root = Settings.withRenamedSections(root); // cairn.raft: deprecated spelling
    return Settings.readNamedSections(
        root, RAFT, "Raft groups such as orders { backend = main }", problems, RaftSettings::read);
  }

  /**
   * The settings of group {@code name}, or {@code null} after adding problems if they are invalid.
   * A group that is not configured gets the defaults.
   */
  static RaftSettings read(Config root, String name, List<ConfigProblem> problems) {
    root = Settings.withRenamedSections(root); // cairn.raft: deprecated spelling
    int before = problems.size();
    Settings s = SECTION.read(root, name, problems);
    if (s == null) {
      return null;
    }
    long chunk = s.bytes("snapshot-chunk-size", 1024, 16L << 20);
    if (chunk > MAX_CHUNK) {
      s.problem(
          "snapshot-chunk-size",
          "a size from 1KiB to " + MAX_CHUNK + " bytes (64MiB less the 13-byte chunk header)",
          chunk + " bytes");
    }
    String resolved = s.backendReference(root, "backend");
    if (problems.size() > before) {
      return null;
    }
    return new RaftSettings(name, resolved, (int) chunk);
  }
}
