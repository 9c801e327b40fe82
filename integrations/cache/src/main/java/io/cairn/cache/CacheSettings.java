package io.cairn.cache;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.Settings;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The validated settings of one cache: {@code cairn.caches.<name>} over its profile from {@code
 * cairn.cache-profiles} over {@code cairn.cache-defaults}. Immutable.
 *
 * @param name cache name
 * @param profile profile name
 * @param backend backend of the L2 tier, resolved (never empty)
 * @param ttl entry lifetime in both tiers; {@link Duration#ZERO} for none
 * @param maxValueSize largest encoded value the cache stores, in bytes
 * @param l1MaxEntries L1 entry bound (always applies)
 * @param l1MaxWeight L1 bound on total encoded value bytes (applies with the entry bound); 0 for
 *     the entry bound only
 * @param l1ExpireAfterWrite L1 lifetime after write; 0 for ttl only
 * @param l1ExpireAfterAccess L1 idle lifetime; 0 for off
 * @param l1CoarseClock whether L1 expiry is enforced off the hit path by the shared sweeper thread
 *     (system clock only; see {@code L1Sweeper}), rather than checked on every hit
 * @param l2Enabled whether the L2 tier is used
 * @param l2RetryInitial first pause before retrying a failing L2
 * @param l2RetryMax longest pause before retrying a failing L2
 * @param tiers the persistent tiers, top down (after L1): from {@code tiers}, else the one {@code
 *     backend} tier with the {@code l2} bounds when {@code l2.enabled}, else none
 */
record CacheSettings(
    String name,
    String profile,
    String backend,
    Duration ttl,
    long maxValueSize,
    long l1MaxEntries,
    long l1MaxWeight,
    Duration l1ExpireAfterWrite,
    Duration l1ExpireAfterAccess,
    boolean l1CoarseClock,
    boolean l2Enabled,
    Duration l2RetryInitial,
    Duration l2RetryMax,
    List<TierSettings> tiers) {
  static final String CACHES = "cairn.caches";
  static final String DEFAULTS = "cairn.cache-defaults";
  static final String PROFILES = "cairn.cache-profiles";
  static final int MAX_NAME_LENGTH = 100;
  private static final Set<String> NESTED = Set.of("l1", "l2");

  /**
   * Names configured under {@code cairn.caches} (or the deprecated {@code cairn.cache}), sorted.
   */
  static Set<String> configuredNames(Config root) {
    // cairn.cache: deprecated spelling
    return Settings.namedSections(Settings.withRenamedSections(root), CACHES);
  }

  /** Checks every profile and every cache, adding one problem per bad setting. */
  static void validateAll(Config root, List<ConfigProblem> problems) {
    root = Settings.withRenamedSections(root); // cairn.cache: deprecated spelling
    Config defaults = defaults(root);
    if (root.hasPath(PROFILES)) {
      if (!isObject(root, PROFILES, problems, "an object of named cache profiles")) {
        return;
      }
      for (String p : new TreeSet<>(root.getObject(PROFILES).keySet())) {
        String path = PROFILES + "." + quote(p);
        ConfigValue v = root.getObject(PROFILES).get(p);
        if (v.valueType() != ConfigValueType.OBJECT) {
          problems.add(
              new ConfigProblem(
                  path, Settings.origin(v.origin()), "an object of cache settings", type(v)));
          continue;
        }
        Set<String> allowed = new TreeSet<>(Settings.keysOf(defaults));
        allowed.remove("profile");
        rejectUnknown(((ConfigObject) v).toConfig(), path, allowed, defaults, problems);
      }
    }
    Settings.readNamedSections(
        root, CACHES, "caches such as sessions { ttl = 10m }", problems, CacheSettings::read);
  }

  /**
   * Reads cache {@code name}, adding problems for bad settings. Returns usable settings (fallbacks
   * where a setting was bad), or null if the cache is not configured (a problem is added).
   */
  static CacheSettings read(Config root, String name, List<ConfigProblem> problems) {
    root = Settings.withRenamedSections(root); // cairn.cache: deprecated spelling
    String path = CACHES + "." + quote(name);
    ConfigObject value =
        Settings.namedEntry(root, CACHES, name, "cache", "{ backend = main, ttl = 10m }", problems);
    if (value == null) {
      return null;
    }
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*") || name.length() > MAX_NAME_LENGTH) {
      problems.add(
          new ConfigProblem(
              path,
              Settings.origin(value.origin()),
              "a cache name of 1-" + MAX_NAME_LENGTH + " characters from [A-Za-z0-9._-]",
              "'" + name + "'"));
    }
    Config defaults = defaults(root);
    Config entry = value.toConfig();
    rejectUnknown(entry, path, Settings.keysOf(defaults), defaults, problems);

    Settings top = new Settings(entry.withFallback(defaults), path, problems);
    String profile = top.string("profile", "balanced");
    Config profileConfig = ConfigFactory.empty();
    Set<String> profiles =
        root.hasPath(PROFILES) && root.getValue(PROFILES).valueType() == ConfigValueType.OBJECT
            ? new TreeSet<>(root.getObject(PROFILES).keySet())
            : Set.of();
    if (profiles.contains(profile)) {
      ConfigValue pv = root.getObject(PROFILES).get(profile);
      if (pv.valueType() == ConfigValueType.OBJECT) {
        profileConfig = ((ConfigObject) pv).toConfig();
      }
    } else {
      String suggestion = Settings.suggest(profile, profiles);
      top.problem(
          "profile",
          "a profile under cairn.cache-profiles "
              + profiles
              + (suggestion != null ? " (did you mean '" + suggestion + "'?)" : ""),
          "\"" + profile + "\"");
    }
    Config merged = entry.withFallback(profileConfig).withFallback(defaults);
    Settings s = new Settings(merged, path, problems);
    boolean explicitTiers =
        merged.hasPath("tiers")
            && merged.getValue("tiers").valueType() == ConfigValueType.LIST
            && !merged.getList("tiers").isEmpty();
    String backend = explicitTiers ? "" : backendName(root, s);
    Duration ttl = s.duration("ttl", Duration.ZERO, Duration.ofMinutes(10));
    long maxValueSize = s.bytes("max-value-size", 1, 16L << 20);
    if (maxValueSize > Integer.MAX_VALUE) {
      s.problem("max-value-size", "a size of at most 2GiB - 1", Long.toString(maxValueSize));
      maxValueSize = Integer.MAX_VALUE;
    }
    Settings l1 = nested(merged, path, "l1", problems);
    long maxEntries = l1.intBetween("max-entries", 1, Integer.MAX_VALUE, 10_000);
    long maxWeight = l1.bytes("max-weight", 0, 64L << 20);
    Duration afterWrite = l1.duration("expire-after-write", Duration.ZERO, Duration.ZERO);
    Duration afterAccess = l1.duration("expire-after-access", Duration.ZERO, Duration.ZERO);
    boolean coarseClock = l1.bool("coarse-clock", true);
    Settings l2 = nested(merged, path, "l2", problems);
    boolean l2Enabled = l2.bool("enabled", true);
    Duration retryInitial =
        l2.duration("retry-initial", Duration.ofMillis(1), Duration.ofSeconds(1));
    Duration retryMax = l2.duration("retry-max", Duration.ofMillis(1), Duration.ofMinutes(1));
    if (retryMax.compareTo(retryInitial) < 0) {
      l2.problem(
          "retry-max",
          "a duration at least retry-initial (" + Settings.human(retryInitial) + ")",
          Settings.human(retryMax));
    }
    TierSettings l2Bounds = TierSettings.defaults(backend, l2);
    List<TierSettings> tiers = TierSettings.read(root, merged, path, l2Bounds, problems);
    if (tiers == null) {
      tiers = l2Enabled ? List.of(l2Bounds) : List.of();
    } else {
      l2Enabled = !tiers.isEmpty();
      backend = tiers.isEmpty() ? backend : tiers.get(0).backend();
    }
    return new CacheSettings(
        name,
        profile,
        backend,
        ttl,
        maxValueSize,
        maxEntries,
        maxWeight,
        afterWrite,
        afterAccess,
        coarseClock,
        l2Enabled,
        retryInitial,
        retryMax,
        List.copyOf(tiers));
  }

  private static Settings nested(Config merged, String path, String key, List<ConfigProblem> p) {
    if (merged.hasPath(key) && merged.getValue(key).valueType() == ConfigValueType.OBJECT) {
      return new Settings(merged.getConfig(key), path + "." + key, p);
    }
    return new Settings(ConfigFactory.empty(), path + "." + key, p);
  }

  /** Unknown keys at the top level and inside l1/l2, against the defaults' keys. */
  private static void rejectUnknown(
      Config entry, String path, Set<String> allowed, Config defaults, List<ConfigProblem> p) {
    new Settings(entry, path, p).rejectUnknownKeys(allowed, "cache");
    for (String n : NESTED) {
      if (!entry.hasPath(n)) {
        continue;
      }
      ConfigValue v = entry.getValue(n);
      if (v.valueType() != ConfigValueType.OBJECT) {
        p.add(
            new ConfigProblem(
                path + "." + n,
                Settings.origin(v.origin()),
                "an object of " + n + " settings " + Settings.keysOf(defaults.getConfig(n)),
                type(v)));
        continue;
      }
      new Settings(entry.getConfig(n), path + "." + n, p)
          .rejectUnknownKeys(Settings.keysOf(defaults.getConfig(n)), "cache " + n);
    }
  }

  private static Config defaults(Config root) {
    return root.hasPath(DEFAULTS) ? root.getConfig(DEFAULTS) : ConfigFactory.empty();
  }

  private static boolean isObject(
      Config root, String path, List<ConfigProblem> problems, String expected) {
    ConfigValue v = root.getValue(path);
    if (v.valueType() == ConfigValueType.OBJECT) {
      return true;
    }
    problems.add(new ConfigProblem(path, Settings.origin(v.origin()), expected, type(v)));
    return false;
  }

  /** Resolves {@code backend} (empty: the default backend) and checks it is configured. */
  private static String backendName(Config root, Settings s) {
    return s.backendReference(root, "backend");
  }

  private static String type(ConfigValue v) {
    return v.valueType().name().toLowerCase(Locale.ROOT);
  }

  private static String quote(String key) {
    return key.matches("[A-Za-z0-9_-]+") ? key : "\"" + key + "\"";
  }
}
