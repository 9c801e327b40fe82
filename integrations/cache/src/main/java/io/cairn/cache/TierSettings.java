package io.cairn.cache;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The settings of one persistent tier of a cache.
 *
 * @param backend the backend (a key under {@code cairn.backends}) holding the tier
 * @param maxEntries entry bound; 0 for none
 * @param maxBytes bound on key + stored value bytes; 0 for none
 * @param maxTtl cap on an entry's lifetime in this tier; {@link Duration#ZERO} for the cache's ttl
 */
record TierSettings(String backend, long maxEntries, long maxBytes, Duration maxTtl) {
  static final String L1 = "l1";
  static final Set<String> KEYS = Set.of("backend", "max-entries", "max-bytes", "max-ttl");

  /** Bounds of the {@code l2} section, which apply to every persistent tier not naming its own. */
  static TierSettings defaults(String backend, Settings l2) {
    return new TierSettings(
        backend,
        l2.intBetween("max-entries", 0, Integer.MAX_VALUE, 0),
        l2.bytes("max-bytes", 0, 0),
        l2.duration("max-ttl", Duration.ZERO, Duration.ZERO));
  }

  /**
   * Reads {@code tiers = [l1, fast, { backend = main, max-bytes = 1GiB }]} of the merged cache
   * settings: {@code l1} first, then each persistent tier as a backend name (bounds from {@code
   * l2}) or an object. Returns the persistent tiers, top down; null when {@code tiers} is empty
   * (the single-L2 form applies).
   */
  static List<TierSettings> read(
      Config root, Config merged, String path, TierSettings l2, List<ConfigProblem> problems) {
    if (!merged.hasPath("tiers")) {
      return null;
    }
    ConfigValue value = merged.getValue("tiers");
    String at = path + ".tiers";
    if (value.valueType() != ConfigValueType.LIST) {
      problems.add(
          new ConfigProblem(
              at, Settings.origin(value.origin()), "a list such as [l1, fast, main]", type(value)));
      return null;
    }
    List<? extends ConfigValue> items = merged.getList("tiers");
    if (items.isEmpty()) {
      return null;
    }
    List<TierSettings> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < items.size(); i++) {
      ConfigValue item = items.get(i);
      String itemPath = at + "[" + i + "]";
      if (i == 0) {
        if (item.valueType() != ConfigValueType.STRING || !L1.equals(item.unwrapped())) {
          problems.add(
              new ConfigProblem(
                  itemPath,
                  Settings.origin(item.origin()),
                  "l1 (the in-memory tier always comes first)",
                  Settings.describe(itemPath, item)));
        }
        continue;
      }
      TierSettings t;
      Settings s;
      if (item.valueType() == ConfigValueType.STRING) {
        Config c = ConfigFactory.empty().withValue("backend", item);
        s = new Settings(c, itemPath, problems);
        t =
            new TierSettings(
                s.backendReference(root, "backend"), l2.maxEntries, l2.maxBytes, l2.maxTtl);
      } else if (item.valueType() == ConfigValueType.OBJECT) {
        s = new Settings(((ConfigObject) item).toConfig(), itemPath, problems);
        s.rejectUnknownKeys(KEYS, "cache tier");
        if (!s.config().hasPath("backend")) {
          s.problem("backend", "the name of a configured backend", "nothing");
        }
        Config c = s.config();
        t =
            new TierSettings(
                s.backendReference(root, "backend"),
                c.hasPath("max-entries")
                    ? s.intBetween("max-entries", 0, Integer.MAX_VALUE, 0)
                    : l2.maxEntries,
                c.hasPath("max-bytes") ? s.bytes("max-bytes", 0, 0) : l2.maxBytes,
                c.hasPath("max-ttl")
                    ? s.duration("max-ttl", Duration.ZERO, Duration.ZERO)
                    : l2.maxTtl);
      } else {
        problems.add(
            new ConfigProblem(
                itemPath,
                Settings.origin(item.origin()),
                "a backend name or { backend = ..., max-entries = ..., max-bytes = ..., max-ttl"
                    + " = ... }",
                type(item)));
        continue;
      }
      if (L1.equals(t.backend())) {
        s.problem("backend", "a backend name (l1 may only come first)", "l1");
      } else if (!t.backend().isEmpty() && !seen.add(t.backend())) {
        s.problem(
            "backend",
            "a backend not used by another tier of this cache",
            "\"" + t.backend() + "\" a second time");
      }
      out.add(t);
    }
    return out;
  }

  private static String type(ConfigValue v) {
    return v.valueType().name().toLowerCase(Locale.ROOT);
  }
}
