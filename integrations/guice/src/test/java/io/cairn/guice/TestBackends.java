package io.cairn.guice;

import java.util.Map;

/**
 * The backends every Guice test runs on. Adding a backend to the suites is one entry here plus its
 * name in the suites' {@code @ValueSource}.
 */
final class TestBackends {
  /** Backend entry body for each type, in HOCON and in TOML. */
  static final Map<String, String[]> ENTRIES =
      Map.of(
          "memory",
              new String[] {
                "{ type = memory, durability = none }", "type = \"memory\"\ndurability = \"none\""
              },
          "sqlite", new String[] {"{ type = sqlite }", "type = \"sqlite\""},
          "rocksdb", new String[] {"{ type = rocksdb }", "type = \"rocksdb\""});

  private TestBackends() {}

  static String hocon(String type) {
    return ENTRIES.get(type)[0];
  }

  static String toml(String type) {
    return ENTRIES.get(type)[1];
  }
}
