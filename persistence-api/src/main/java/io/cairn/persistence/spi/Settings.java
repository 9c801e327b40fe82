package io.cairn.persistence.spi;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigValue;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Reads one section of configuration eagerly and collects every problem instead of stopping at the
 * first, so that one {@link ConfigurationException} can list them all with path, file:line,
 * expected and found.
 *
 * <p>Every getter returns a usable fallback after recording a problem, so reading can continue. Not
 * thread-safe; use one instance per validation pass.
 */
public final class Settings {
  private final Config config;
  private final String path;
  private final List<ConfigProblem> problems;

  /**
   * @param config the section to read (keys relative to it)
   * @param path the section's full path, for messages, e.g. {@code cairn.backends.main}
   * @param problems where problems are added
   */
  public Settings(Config config, String path, List<ConfigProblem> problems) {
    this.config = config;
    this.path = path;
    this.problems = problems;
  }

  public Config config() {
    return config;
  }

  public String path() {
    return path;
  }

  public List<ConfigProblem> problems() {
    return problems;
  }

  /** Full path of {@code key} inside this section. */
  public String pathOf(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  /** Adds a problem for {@code key} with its origin. */
  public void problem(String key, String expected, String found) {
    problems.add(new ConfigProblem(pathOf(key), originOf(key), expected, found));
  }

  public String string(String key, String fallback) {
    if (!present(key, "a string")) {
      return fallback;
    }
    try {
      return config.getString(key);
    } catch (ConfigException.WrongType e) {
      problem(key, "a string", describe(key));
      return fallback;
    }
  }

  public boolean bool(String key, boolean fallback) {
    if (!present(key, "true or false")) {
      return fallback;
    }
    try {
      return config.getBoolean(key);
    } catch (ConfigException.WrongType e) {
      problem(key, "true or false", describe(key));
      return fallback;
    }
  }

  public int intBetween(String key, int min, int max, int fallback) {
    String expected = "an integer from " + min + " to " + max;
    if (!present(key, expected)) {
      return fallback;
    }
    try {
      int v = config.getInt(key);
      if (v < min || v > max) {
        problem(key, expected, describe(key));
        return fallback;
      }
      return v;
    } catch (ConfigException.WrongType e) {
      problem(key, expected, describe(key));
      return fallback;
    }
  }

  /**
   * A size with a unit such as {@code 256MiB} or {@code 4096B}, at least {@code min}. A bare number
   * other than {@code 0} is refused: Typesafe Config would read {@code 64} as 64 bytes where the
   * writer usually meant 64 MiB, a silent misconfiguration. The message shows the fix.
   */
  public long bytes(String key, long min, long fallback) {
    String expected = "a size with a unit such as 64MiB, at least " + humanBytes(min);
    if (!present(key, expected)) {
      return fallback;
    }
    String bare = bareNumber(key);
    if (bare != null) {
      problem(
          key,
          "a size with a unit, e.g. "
              + bare
              + "B for bytes or "
              + bare
              + "MiB (units: B, KiB, MiB, GiB; a bare number is ambiguous)",
          describe(key) + " without a unit");
      return fallback;
    }
    try {
      long v = config.getBytes(key);
      if (v < min) {
        problem(key, expected, describe(key));
        return fallback;
      }
      return v;
    } catch (ConfigException.BadValue | ConfigException.WrongType e) {
      problem(key, expected, describe(key));
      return fallback;
    }
  }

  /**
   * A duration with a unit such as {@code 30s}, at least {@code min}. A bare number other than
   * {@code 0} is refused: Typesafe Config would read {@code visibility-timeout = 30} as 30
   * milliseconds, silently. The message shows the fix ({@code 30s}).
   */
  public Duration duration(String key, Duration min, Duration fallback) {
    String expected = "a duration such as 30s or 10m, at least " + human(min);
    if (!present(key, expected)) {
      return fallback;
    }
    String bare = bareNumber(key);
    if (bare != null) {
      problem(
          key,
          "a duration with a unit, e.g. "
              + bare
              + "s (units: ms, s, m, h, d; a bare number would be read as milliseconds)",
          describe(key) + " without a unit");
      return fallback;
    }
    try {
      Duration v = config.getDuration(key);
      if (v.compareTo(min) < 0) {
        problem(key, expected, describe(key));
        return fallback;
      }
      return v;
    } catch (ConfigException.BadValue | ConfigException.WrongType e) {
      problem(key, expected, describe(key));
      return fallback;
    }
  }

  /**
   * The number as written when {@code key} holds a number without a unit (a HOCON/JSON/TOML number,
   * or a string of digits as properties files give), other than zero; else null. Zero means the
   * same in every unit, and several settings document {@code 0} as "off".
   */
  private String bareNumber(String key) {
    ConfigValue v = config.getValue(key);
    Object raw = v.unwrapped();
    String text;
    if (raw instanceof Number n) {
      text = v.render(com.typesafe.config.ConfigRenderOptions.concise());
    } else if (raw instanceof String s && s.trim().matches("[+-]?[0-9]+(\\.[0-9]+)?")) {
      text = s.trim();
    } else {
      return null;
    }
    return text.matches("[+-]?0+(\\.0+)?") ? null : text;
  }

  /**
   * A duration the way a configuration file writes it: {@code 10ms}, {@code 30s}, {@code 5m},
   * {@code 2h}, {@code 1d} (the largest unit that divides it exactly), never ISO-8601's {@code
   * PT0.01S}. For messages.
   */
  public static String human(Duration d) {
    if (d.isZero()) {
      return "0";
    }
    if (d.isNegative()) {
      return "-" + human(d.negated());
    }
    long nanos;
    try {
      nanos = d.toNanos();
    } catch (ArithmeticException e) {
      return d.toDays() + "d";
    }
    long[] sizes = {
      86_400_000_000_000L,
      3_600_000_000_000L,
      60_000_000_000L,
      1_000_000_000L,
      1_000_000L,
      1_000L,
      1L
    };
    String[] units = {"d", "h", "m", "s", "ms", "us", "ns"};
    for (int i = 0; i < sizes.length; i++) {
      if (nanos % sizes[i] == 0) {
        return nanos / sizes[i] + units[i];
      }
    }
    return nanos + "ns";
  }

  /** A byte count the way a configuration file writes it: {@code 64MiB}, {@code 4096B}. */
  public static String humanBytes(long bytes) {
    String[] units = {"GiB", "MiB", "KiB"};
    long[] sizes = {1L << 30, 1L << 20, 1L << 10};
    for (int i = 0; i < sizes.length; i++) {
      if (bytes != 0 && bytes % sizes[i] == 0) {
        return bytes / sizes[i] + units[i];
      }
    }
    return bytes + "B";
  }

  /**
   * One of an enum's constants written in configuration style: lower-case with dashes, e.g. {@code
   * on-corruption = quarantine} for {@code QUARANTINE}.
   */
  public <E extends Enum<E>> E oneOf(String key, Class<E> type, E fallback) {
    List<String> names =
        Arrays.stream(type.getEnumConstants())
            .map(Settings::configName)
            .collect(Collectors.toList());
    String expected = "one of " + names;
    if (!present(key, expected)) {
      return fallback;
    }
    ConfigValue raw = config.getValue(key);
    Object unwrapped = raw.unwrapped();
    if (unwrapped instanceof String s) {
      for (E e : type.getEnumConstants()) {
        if (configName(e).equals(s.trim().toLowerCase(Locale.ROOT))) {
          return e;
        }
      }
    }
    problem(key, expected, describe(key));
    return fallback;
  }

  /**
   * Records a problem for every key in this section that {@code allowed} does not contain, with a
   * did-you-mean suggestion when a known key is close.
   */
  public void rejectUnknownKeys(Set<String> allowed, String what) {
    ConfigObject root = config.root();
    for (Map.Entry<String, ConfigValue> e : root.entrySet()) {
      String key = e.getKey();
      if (!allowed.contains(key)) {
        String suggestion = suggest(key, allowed);
        String expected =
            suggestion != null
                ? "a known " + what + " key (did you mean '" + suggestion + "'?)"
                : "one of the known " + what + " keys " + new TreeSet<>(allowed);
        problems.add(
            new ConfigProblem(
                pathOf(quoteIfNeeded(key)),
                origin(e.getValue().origin()),
                expected,
                "unknown key '" + key + "'"));
      }
    }
  }

  /**
   * Reads {@code key} as a reference to a backend under {@code cairn.backends} of {@code root}. An
   * empty value means {@code cairn.default-backend} (checked by the backend validator, so not
   * reported twice here), or else the only configured backend. Records a problem (with a
   * did-you-mean) when a name matches no configured backend, and returns the name read (or "" when
   * none can be chosen). The one place subsystems resolve their {@code backend} setting.
   */
  public String backendReference(Config root, String key) {
    String backend = string(key, "");
    Set<String> configured =
        root.hasPath("cairn.backends")
                && root.getValue("cairn.backends").valueType()
                    == com.typesafe.config.ConfigValueType.OBJECT
            ? new TreeSet<>(root.getObject("cairn.backends").keySet())
            : new TreeSet<>();
    if (backend.isEmpty()) {
      String fallback =
          root.hasPath("cairn.default-backend") ? root.getString("cairn.default-backend") : "";
      if (!fallback.isEmpty()) {
        return fallback;
      }
      if (configured.size() == 1) {
        return configured.iterator().next();
      }
      problem(
          key,
          "the name of a configured backend " + configured + " (cairn.default-backend is empty)",
          configured.isEmpty() ? "no backends configured" : "nothing, and several backends exist");
      return "";
    }
    if (!configured.contains(backend)) {
      String suggestion = suggest(backend, configured);
      problem(
          key,
          "one of the configured backends "
              + configured
              + (suggestion != null ? " (did you mean '" + suggestion + "'?)" : ""),
          "\"" + backend + "\"");
    }
    return backend;
  }

  /**
   * The user-named entry {@code name} of the map section {@code section} (e.g. {@code
   * cairn.queues}), or {@code null} after adding a problem: a did-you-mean when no such entry is
   * configured, or the expected shape ({@code example}) when the entry is not an object.
   *
   * @param what singular noun for messages, e.g. {@code "queue"}
   */
  public static com.typesafe.config.ConfigObject namedEntry(
      Config root,
      String section,
      String name,
      String what,
      String example,
      List<ConfigProblem> problems) {
    String path = section + "." + quoteIfNeeded(name);
    boolean present =
        root.hasPath(section)
            && root.getValue(section).valueType() == com.typesafe.config.ConfigValueType.OBJECT;
    ConfigValue value = present ? root.getObject(section).get(name) : null;
    if (value == null) {
      Set<String> known = present ? new TreeSet<>(root.getObject(section).keySet()) : Set.of();
      String suggestion = suggest(name, known);
      problems.add(
          new ConfigProblem(
              path,
              "not set",
              "a configured "
                  + what
                  + (suggestion != null
                      ? " (did you mean '" + suggestion + "'?)"
                      : "; configured " + what + "s: " + known),
              "no " + what + " named '" + name + "'"));
      return null;
    }
    if (value.valueType() != com.typesafe.config.ConfigValueType.OBJECT) {
      problems.add(
          new ConfigProblem(
              path,
              origin(value.origin()),
              "an object such as " + example,
              value.valueType().name().toLowerCase(Locale.ROOT)));
      return null;
    }
    return (com.typesafe.config.ConfigObject) value;
  }

  /**
   * How the user-named entries of one map section are read over their defaults: the section (e.g.
   * {@code cairn.queues}), the defaults section (e.g. {@code cairn.queue-defaults}), the singular
   * noun and an example for messages, the longest entry name, and whether an entry must be
   * configured. The one place queues, route tables and Raft groups check an entry's shape, name and
   * keys, so they report them alike.
   *
   * @param section the map section, e.g. {@code cairn.queues}
   * @param defaults the defaults section, e.g. {@code cairn.queue-defaults}; absent reads as empty
   * @param what singular noun for messages, e.g. {@code "queue"} or {@code "Raft group"}
   * @param example the expected shape of an entry, e.g. {@code "{ backend = main }"}
   * @param maxNameLength the longest entry name accepted
   * @param required true: an entry that is not configured is a problem; false: it gets the defaults
   */
  public record NamedSection(
      String section,
      String defaults,
      String what,
      String example,
      int maxNameLength,
      boolean required) {
    /**
     * The settings of entry {@code name} over the defaults, or {@code null} after adding a problem
     * when the entry is not an object, or is required and not configured. A name that breaks the
     * naming rule (1-{@code maxNameLength} characters from {@code [A-Za-z0-9._-]}, starting with a
     * letter or digit) and keys the defaults do not know add problems, and the settings are still
     * returned so reading can continue: callers compare {@code problems.size()} before and after.
     */
    public Settings read(Config root, String name, List<ConfigProblem> problems) {
      String path = entryPath(section, name);
      Config entry = com.typesafe.config.ConfigFactory.empty();
      if (required || isConfigured(root, name)) {
        ConfigObject value = namedEntry(root, section, name, what, example, problems);
        if (value == null) {
          return null;
        }
        entry = value.toConfig();
      }
      if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*") || name.length() > maxNameLength) {
        problems.add(
            new ConfigProblem(
                path,
                origin(entry.root().origin()),
                "a "
                    + what
                    + " name of 1-"
                    + maxNameLength
                    + " characters from [A-Za-z0-9._-], starting with a letter or digit",
                "'" + name + "'"));
      }
      Config defaultsConfig =
          root.hasPath(defaults)
              ? root.getConfig(defaults)
              : com.typesafe.config.ConfigFactory.empty();
      new Settings(entry, path, problems).rejectUnknownKeys(keysOf(defaultsConfig), what);
      return new Settings(entry.withFallback(defaultsConfig), path, problems);
    }

    /** Whether entry {@code name} is set (a null value counts as not set). */
    private boolean isConfigured(Config root, String name) {
      if (!root.hasPath(section)
          || root.getValue(section).valueType() != com.typesafe.config.ConfigValueType.OBJECT) {
        return false;
      }
      ConfigValue v = root.getObject(section).get(name);
      return v != null && v.valueType() != com.typesafe.config.ConfigValueType.NULL;
    }
  }

  /** Reads one named entry of a map section; see {@link #readNamedSections}. */
  @FunctionalInterface
  public interface NamedEntryReader<T> {
    /**
     * The settings of entry {@code name}, or {@code null} after adding problems to {@code
     * problems}.
     *
     * @param root the whole configuration, deprecated spellings already renamed
     */
    T read(Config root, String name, List<ConfigProblem> problems);
  }

  /**
   * The entry names of the map section {@code section} (e.g. {@code cairn.queues}), sorted; empty
   * when the section is absent or not an object ({@link #readNamedSections} reports that). Reads
   * {@code root} as given: pass it through {@link #withRenamedSections} first where a deprecated
   * spelling of {@code section} must count.
   */
  public static java.util.SortedSet<String> namedSections(Config root, String section) {
    if (!root.hasPath(section)
        || root.getValue(section).valueType() != com.typesafe.config.ConfigValueType.OBJECT) {
      return java.util.Collections.unmodifiableSortedSet(new TreeSet<>());
    }
    return java.util.Collections.unmodifiableSortedSet(
        new TreeSet<>(root.getObject(section).keySet()));
  }

  /**
   * Reads every entry of the map section {@code section} (e.g. {@code cairn.route-tables}) with
   * {@code reader}, in name order, after moving the entries of deprecated spellings to their new
   * paths ({@link #withRenamedSections}). A section that is set but not an object adds one problem
   * ({@code "an object of named " + what}) and reads nothing; an entry whose reader returns {@code
   * null} is left out (its problems were added). The one place the shape of a named collection is
   * checked, so queues, caches, route tables and Raft groups report it alike.
   *
   * @param what the plural noun and an example for messages, e.g. {@code "route tables such as
   *     catalog { backend = main }"}
   * @return the non-null results, in name order
   */
  public static <T> List<T> readNamedSections(
      Config root,
      String section,
      String what,
      List<ConfigProblem> problems,
      NamedEntryReader<T> reader) {
    Config renamed = withRenamedSections(root);
    List<T> out = new ArrayList<>();
    if (!renamed.hasPath(section)) {
      return out;
    }
    ConfigValue value = renamed.getValue(section);
    if (value.valueType() != com.typesafe.config.ConfigValueType.OBJECT) {
      problems.add(
          new ConfigProblem(
              section,
              origin(value.origin()),
              "an object of named " + what,
              value.valueType().name().toLowerCase(Locale.ROOT)));
      return out;
    }
    for (String name : namedSections(renamed, section)) {
      T t = reader.read(renamed, name, problems);
      if (t != null) {
        out.add(t);
      }
    }
    return out;
  }

  /**
   * The path of entry {@code name} of map section {@code section} as messages show it: {@code
   * cairn.queues.orders}, or {@code cairn.queues."a.b"} when the name needs quoting to stay one
   * path element.
   */
  public static String entryPath(String section, String name) {
    return section + "." + quoteIfNeeded(name);
  }

  /**
   * Map sections renamed to the plural convention ({@code cairn.queues}, {@code cairn.caches},
   * {@code cairn.route-tables}, {@code cairn.raft-groups}): old path to new path. The old spellings
   * still load, with a deprecation warning naming the new path, for one release (0.2); then they
   * become unknown keys.
   */
  public static final Map<String, String> RENAMED_SECTIONS =
      Map.of(
          "cairn.cache", "cairn.caches",
          "cairn.routing", "cairn.route-tables",
          "cairn.raft", "cairn.raft-groups");

  /**
   * Defaults sections renamed to the {@code <singular>-defaults} convention of their collection
   * ({@code cairn.queue-defaults} for {@code cairn.queues}, {@code cairn.route-table-defaults} for
   * {@code cairn.route-tables}): old path to new path. The old spelling still loads for one
   * release, with a deprecation warning naming the new path: a key set under it overrides the
   * module's reference default, and a key set under the new path wins over both. Its keys are
   * checked against the new section's by {@link #renamedDefaultsProblems}.
   */
  public static final Map<String, String> RENAMED_DEFAULTS =
      Map.of("cairn.routing-defaults", "cairn.route-table-defaults");

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Settings.class);
  private static final Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * {@code root} with the entries of every deprecated section of {@link #RENAMED_SECTIONS} moved
   * under the new path (an entry spelled both ways: the new spelling wins; {@code cairn validate}
   * reports that as a problem). Returns {@code root} itself when no old spelling has entries. Logs
   * each deprecation once per JVM. Readers of those sections call this first, so every entry point
   * (validation, {@code Cairn.open}, a registry built in code) sees one spelling.
   */
  public static Config withRenamedSections(Config root) {
    Config out = root;
    for (Map.Entry<String, String> r : new java.util.TreeMap<>(RENAMED_SECTIONS).entrySet()) {
      String old = r.getKey();
      String now = r.getValue();
      if (!root.hasPath(old)
          || root.getValue(old).valueType() != com.typesafe.config.ConfigValueType.OBJECT
          || root.getObject(old).isEmpty()) {
        continue;
      }
      ConfigObject entries = root.getObject(old);
      String warning = deprecation(old, now, entries);
      if (WARNED.add(warning)) {
        LOG.warn(warning);
      }
      ConfigObject merged =
          root.hasPath(now)
                  && root.getValue(now).valueType() == com.typesafe.config.ConfigValueType.OBJECT
              ? root.getObject(now).withFallback(entries)
              : entries;
      out = out.withValue(now, merged).withoutPath(old);
    }
    for (Map.Entry<String, String> r : new java.util.TreeMap<>(RENAMED_DEFAULTS).entrySet()) {
      ConfigObject old = userSetObject(root, r.getKey());
      if (old == null) {
        continue;
      }
      String warning = deprecation(r.getKey(), r.getValue(), old);
      if (WARNED.add(warning)) {
        LOG.warn(warning);
      }
      ConfigObject merged =
          root.hasPath(r.getValue())
                  && root.getValue(r.getValue()).valueType()
                      == com.typesafe.config.ConfigValueType.OBJECT
              ? root.getObject(r.getValue())
              : com.typesafe.config.ConfigFactory.empty().root();
      for (Map.Entry<String, ConfigValue> e : new java.util.TreeMap<>(old).entrySet()) {
        ConfigValue now = merged.get(e.getKey());
        if (now == null || fromReference(now.origin())) {
          merged = merged.withValue(e.getKey(), e.getValue()); // the user's old spelling wins
        }
      }
      out = out.withValue(r.getValue(), merged).withoutPath(r.getKey());
    }
    return out;
  }

  /** The object at {@code path} when the user set anything in it (not only reference.conf). */
  private static ConfigObject userSetObject(Config root, String path) {
    if (!root.hasPath(path)
        || root.getValue(path).valueType() != com.typesafe.config.ConfigValueType.OBJECT
        || root.getObject(path).isEmpty()) {
      return null;
    }
    ConfigObject o = root.getObject(path);
    for (ConfigValue v : o.values()) {
      if (!fromReference(v.origin())) {
        return o;
      }
    }
    return null;
  }

  /**
   * Adds a problem for every key set under a deprecated defaults spelling ({@link
   * #RENAMED_DEFAULTS}) that its new section does not declare, with a did-you-mean: the old path is
   * declared empty in reference.conf, so nothing else checks its keys.
   */
  public static void renamedDefaultsProblems(Config root, List<ConfigProblem> problems) {
    for (Map.Entry<String, String> r : new java.util.TreeMap<>(RENAMED_DEFAULTS).entrySet()) {
      ConfigObject old = userSetObject(root, r.getKey());
      if (old == null || !root.hasPath(r.getValue())) {
        continue;
      }
      Set<String> known = keysOf(root.getConfig(r.getValue()));
      for (Map.Entry<String, ConfigValue> e : new java.util.TreeMap<>(old).entrySet()) {
        if (!known.contains(e.getKey())) {
          String suggestion = suggest(e.getKey(), known);
          problems.add(
              new ConfigProblem(
                  r.getKey() + "." + quoteIfNeeded(e.getKey()),
                  origin(e.getValue().origin()),
                  "one of the keys of "
                      + r.getValue()
                      + " "
                      + known
                      + (suggestion != null ? " (did you mean '" + suggestion + "'?)" : ""),
                  "unknown key '" + e.getKey() + "'"));
        }
      }
    }
  }

  /**
   * One warning per deprecated section spelling used in {@code root} (see {@link
   * #RENAMED_SECTIONS}), e.g. for {@code cairn verify} to print.
   */
  public static List<String> deprecations(Config root) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, String> r : new java.util.TreeMap<>(RENAMED_SECTIONS).entrySet()) {
      if (root.hasPath(r.getKey())
          && root.getValue(r.getKey()).valueType() == com.typesafe.config.ConfigValueType.OBJECT
          && !root.getObject(r.getKey()).isEmpty()) {
        out.add(deprecation(r.getKey(), r.getValue(), root.getObject(r.getKey())));
      }
    }
    for (Map.Entry<String, String> r : new java.util.TreeMap<>(RENAMED_DEFAULTS).entrySet()) {
      ConfigObject old = userSetObject(root, r.getKey());
      if (old != null) {
        out.add(deprecation(r.getKey(), r.getValue(), old));
      }
    }
    return out;
  }

  private static String deprecation(String old, String now, ConfigObject entries) {
    String where = userOrigin(entries);
    return old
        + (where != null ? " (" + where + ")" : "")
        + " is deprecated: rename it to "
        + now
        + " (same entries, e.g. "
        + now
        + "."
        + new TreeSet<>(entries.keySet()).first()
        + "); the old spelling is accepted until the next release";
  }

  /** Throws one {@link ConfigurationException} listing every problem, if there are any. */
  public static void throwIfAny(List<ConfigProblem> problems) {
    if (!problems.isEmpty()) {
      throw new ConfigurationException(problems);
    }
  }

  /**
   * The configuration spelling of an enum constant: {@code QUARANTINE} becomes {@code quarantine}.
   */
  public static String configName(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * The closest of {@code candidates} to {@code key} by edit distance, or null if none is close.
   */
  public static String suggest(String key, Set<String> candidates) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : new TreeSet<>(candidates)) {
      int d = editDistance(key.toLowerCase(Locale.ROOT), c.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    int limit = Math.max(2, key.length() / 3);
    return bestDistance <= limit ? best : null;
  }

  /** "file:line" (or the origin's description) for a value's origin. */
  public static String origin(ConfigOrigin origin) {
    if (origin == null) {
      return "unknown origin";
    }
    String where =
        origin.filename() != null
            ? origin.filename()
            : origin.resource() != null
                ? origin.resource()
                : origin.url() != null ? origin.url().toString() : null;
    if (where == null) {
      return origin.description();
    }
    return origin.lineNumber() > 0 ? where + ":" + origin.lineNumber() : where;
  }

  /**
   * Where to point the reader for {@code key}. A value the user wrote: its file:line. A default
   * that came from a module's {@code reference.conf} (the user's entry did not set it): the user's
   * entry, with the default's origin after it, since the fix goes in the user's file, not in a jar.
   */
  private String originOf(String key) {
    try {
      if (config.hasPathOrNull(key)) {
        ConfigOrigin o = config.getValue(key).origin();
        if (fromReference(o)) {
          String user = userOrigin(config.root());
          if (user != null) {
            return user + " (the default from " + origin(o) + " applies)";
          }
        }
        return origin(o);
      }
    } catch (ConfigException e) {
      // fall through: report the section's origin
    }
    String user = userOrigin(config.root());
    return user != null ? user : "not set (section " + origin(config.root().origin()) + ")";
  }

  private static boolean fromReference(ConfigOrigin o) {
    return o != null && o.resource() != null && o.resource().endsWith("reference.conf");
  }

  /** The first file:line (lowest line) of a value in {@code object} not from a reference.conf. */
  private static String userOrigin(ConfigObject object) {
    ConfigOrigin best = null;
    java.util.ArrayDeque<ConfigValue> todo = new java.util.ArrayDeque<>(object.values());
    int budget = 10_000; // bounded: a section is small; never walk a huge tree for a message
    while (!todo.isEmpty() && budget-- > 0) {
      ConfigValue v = todo.poll();
      ConfigOrigin o = v.origin();
      if (o != null && o.filename() != null && o.lineNumber() > 0) {
        if (best == null || o.lineNumber() < best.lineNumber()) {
          best = o;
        }
      }
      if (v instanceof ConfigObject child) {
        todo.addAll(child.values());
      }
    }
    return best == null ? null : origin(best);
  }

  private boolean present(String key, String expected) {
    try {
      if (config.hasPath(key)) {
        return true;
      }
    } catch (ConfigException.BadPath e) {
      problem(key, expected, "an invalid path");
      return false;
    }
    problem(key, expected, "nothing (the setting is missing or null)");
    return false;
  }

  private String describe(String key) {
    return describe(pathOf(key), config.getValue(key));
  }

  /** Words that mark a setting whose value may be a secret; matched against every path element. */
  private static final java.util.regex.Pattern SECRET_NAME =
      java.util.regex.Pattern.compile(
          "(?i).*(password|passwd|passphrase|secret|token|credential|key|auth|private|salt).*");

  /**
   * What a problem message may say about {@code value} found at {@code path}: its type and, when
   * safe, its rendering ({@code string "sometimes"}). A value is never shown when the path names a
   * setting that can hold a secret (an element containing password, secret, token, key, credential,
   * passphrase, auth, private or salt) or when it came from an environment variable (a {@code
   * ${VAR}} substitution or a {@code CONFIG_FORCE_} override): configuration errors end up in logs
   * and terminals, secrets must not. Then only the type and length are shown.
   */
  public static String describe(String path, ConfigValue value) {
    String type = value.valueType().name().toLowerCase(Locale.ROOT);
    if (value.valueType() == com.typesafe.config.ConfigValueType.NULL) {
      return "null";
    }
    String reason = hiddenBecause(path, value);
    if (reason != null) {
      Object raw = value.unwrapped();
      String size = raw instanceof String str ? " of " + str.length() + " characters" : "";
      return "a " + type + size + " (value not shown: " + reason + ")";
    }
    return type + " " + value.render(com.typesafe.config.ConfigRenderOptions.concise());
  }

  /** Why {@code value} at {@code path} must not be echoed, or null if it may be. */
  public static String hiddenBecause(String path, ConfigValue value) {
    ConfigOrigin origin = value.origin();
    if (origin != null
        && origin.description() != null
        && origin.description().contains("env variables")) {
      return "it comes from an environment variable";
    }
    for (String element : path.split("\\.")) {
      if (SECRET_NAME.matcher(element).matches()) {
        return "'" + element + "' may hold a secret";
      }
    }
    return null;
  }

  private static String quoteIfNeeded(String key) {
    return key.matches("[A-Za-z0-9_-]+") ? key : "\"" + key + "\"";
  }

  static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** Keys directly under a config object, for building allowed-key sets from reference config. */
  public static Set<String> keysOf(Config section) {
    return new TreeSet<>(section.root().keySet());
  }

  /** Unmodifiable list of problems so far, for callers that only inspect. */
  public List<ConfigProblem> snapshotOfProblems() {
    return List.copyOf(new ArrayList<>(problems));
  }
}
