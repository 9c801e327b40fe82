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
        problem(key, expected, String.valueOf(v));
        return fallback;
      }
      return v;
    } catch (ConfigException.WrongType e) {
      problem(key, expected, describe(key));
      return fallback;
    }
  }

  /** A size such as {@code 256MiB} or a plain number of bytes, at least {@code min}. */
  public long bytes(String key, long min, long fallback) {
    String expected = "a size such as 64MiB, at least " + min + " bytes";
    if (!present(key, expected)) {
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

  /** A duration such as {@code 30s}, at least {@code min}. */
  public Duration duration(String key, Duration min, Duration fallback) {
    String expected = "a duration such as 30s or 10m, at least " + min;
    if (!present(key, expected)) {
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

  private String originOf(String key) {
    try {
      if (config.hasPathOrNull(key)) {
        return origin(config.getValue(key).origin());
      }
    } catch (ConfigException e) {
      // fall through: report the section's origin
    }
    return "not set (section " + origin(config.root().origin()) + ")";
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
    ConfigValue v = config.getValue(key);
    String rendered = v.render(com.typesafe.config.ConfigRenderOptions.concise());
    return v.valueType().name().toLowerCase(Locale.ROOT) + " " + rendered;
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
