package io.cairn.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.spi.ConfigSectionValidator;
import io.cairn.persistence.spi.Settings;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The single validation pass behind {@link CairnConfig#validate(Config)}.
 *
 * <ol>
 *   <li>Structure: every key under {@code cairn} must be declared by some module's {@code
 *       reference.conf}. The check walks the configuration and the merged reference together. Where
 *       the reference has a non-empty object, each key of the configuration's object must appear in
 *       it (unknown keys get a did-you-mean suggestion) and the walk descends. Where the reference
 *       has an <em>empty</em> object, the section is a map of user-named entries (for example
 *       {@code cairn.backends {}}): the walk stops and the owning module's {@link
 *       ConfigSectionValidator} checks the entries. Where the reference has an object, the
 *       configuration must have one too.
 *   <li>Sections: every {@link ConfigSectionValidator} found through {@link ServiceLoader} (sorted
 *       by class name, so problems come in a stable order) reads its section eagerly.
 * </ol>
 *
 * A validator that throws a Typesafe {@link ConfigException} (it met a shape it did not expect)
 * contributes one problem from that exception's origin instead. A problem is dropped if an earlier
 * one has the same path and origin, or, for such exception problems, the same origin, so a mistake
 * is not reported twice. Problems are listed by file and line.
 */
final class ConfigValidation {
  private static final String ROOT = "cairn";

  private ConfigValidation() {}

  static void validate(Config config, ClassLoader loader) {
    Config full;
    try {
      full = config.withFallback(ConfigFactory.defaultReferenceUnresolved(loader)).resolve();
    } catch (ConfigException e) {
      throw ConfigErrors.translate(e, "the configuration");
    }
    Config reference;
    try {
      reference =
          ConfigFactory.defaultReferenceUnresolved(loader)
              .resolve(ConfigResolveOptions.defaults().setAllowUnresolved(true));
    } catch (ConfigException e) {
      throw ConfigErrors.translate(e, "the reference.conf files on the classpath");
    }
    List<ConfigProblem> problems = new ArrayList<>();
    ConfigValue cairn = full.root().get(ROOT);
    ConfigValue cairnReference = reference.root().get(ROOT);
    if (cairn == null) {
      return; // nothing configured and no module declares anything
    }
    if (cairnReference instanceof ConfigObject ref && !userWrote(cairn)) {
      rejectUnwrapped(full, ref, problems);
    }
    if (cairn.valueType() != ConfigValueType.OBJECT) {
      problems.add(
          new ConfigProblem(
              ROOT,
              Settings.origin(cairn.origin()),
              "an object (a section of settings)",
              describe(cairn)));
      Settings.throwIfAny(problems);
    }
    if (cairnReference instanceof ConfigObject ref) {
      checkKnownKeys((ConfigObject) cairn, ref, List.of(ROOT), problems);
    }
    rejectBothSpellings(full, problems);
    for (ConfigSectionValidator validator : validators(loader)) {
      List<ConfigProblem> found = new ArrayList<>();
      try {
        validator.validate(full, found);
      } catch (ConfigException e) {
        ConfigProblem p = fromException(e, validator);
        if (problems.stream().noneMatch(q -> q.origin().equals(p.origin()))) {
          problems.add(p);
        }
      } catch (PersistenceException e) {
        throw e; // e.g. two providers claiming one type: a classpath problem, already explained
      } catch (RuntimeException e) {
        throw new PersistenceException(
            "Configuration validator "
                + validator.getClass().getName()
                + " failed unexpectedly; this is a bug in the module that registers it: "
                + e,
            e);
      }
      for (ConfigProblem p : found) {
        if (problems.stream()
            .noneMatch(q -> q.path().equals(p.path()) && q.origin().equals(p.origin()))) {
          problems.add(p);
        }
      }
    }
    problems.sort(IN_FILE_ORDER);
    Settings.throwIfAny(problems);
  }

  /**
   * Whether any value under {@code value} came from somewhere other than a module's {@code
   * reference.conf}: the user's file, an override, or code.
   */
  private static boolean userWrote(ConfigValue value) {
    java.util.ArrayDeque<ConfigValue> todo = new java.util.ArrayDeque<>();
    todo.add(value);
    while (!todo.isEmpty()) {
      ConfigValue v = todo.poll();
      if (v instanceof ConfigObject o) {
        todo.addAll(o.values());
      } else if (v instanceof List<?> list) {
        list.forEach(x -> todo.add((ConfigValue) x));
      } else {
        ConfigOrigin origin = v.origin();
        if (origin == null
            || origin.resource() == null
            || !origin.resource().endsWith("reference.conf")) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * A file that sets Cairn's keys at the top level ({@code backends { ... }} without the {@code
   * cairn { }} around it) would open with no backends and no word. When the user set nothing under
   * {@code cairn} at all, each top-level key that is one of Cairn's own is reported with the path
   * it belongs at. (When {@code cairn} has user settings, a top-level key of the same name is taken
   * to be the application's own.)
   */
  private static void rejectUnwrapped(
      Config full, ConfigObject reference, List<ConfigProblem> problems) {
    for (Map.Entry<String, ConfigValue> e : new TreeMap<>(full.root()).entrySet()) {
      String key = e.getKey();
      if (key.equals(ROOT) || !reference.containsKey(key) || !userWrote(e.getValue())) {
        continue;
      }
      problems.add(
          new ConfigProblem(
              ConfigUtil.joinPath(key),
              Settings.origin(e.getValue().origin()),
              "Cairn settings inside cairn { ... } (did you mean cairn."
                  + key
                  + "? wrap the file's Cairn settings in cairn { })",
              "'" + key + "' at the top level, outside cairn { }, and nothing set under cairn"));
    }
  }

  /** An entry spelled under both a deprecated section and its new name: which one applies? */
  private static void rejectBothSpellings(Config full, List<ConfigProblem> problems) {
    for (Map.Entry<String, String> r : new TreeMap<>(Settings.RENAMED_SECTIONS).entrySet()) {
      if (!isObject(full, r.getKey()) || !isObject(full, r.getValue())) {
        continue;
      }
      ConfigObject old = full.getObject(r.getKey());
      ConfigObject now = full.getObject(r.getValue());
      for (String name : new TreeMap<>(old).keySet()) {
        if (now.containsKey(name)) {
          problems.add(
              new ConfigProblem(
                  ConfigUtil.joinPath(r.getKey(), name),
                  Settings.origin(old.get(name).origin()),
                  "each entry once, under "
                      + r.getValue()
                      + " ("
                      + r.getKey()
                      + " is the deprecated spelling)",
                  "'"
                      + name
                      + "' also under "
                      + r.getValue()
                      + " ("
                      + Settings.origin(now.get(name).origin())
                      + ")"));
        }
      }
    }
  }

  private static boolean isObject(Config c, String path) {
    return c.hasPath(path) && c.getValue(path).valueType() == ConfigValueType.OBJECT;
  }

  private static final Pattern FILE_LINE = Pattern.compile("(.*):(\\d+)");

  /**
   * Problems in the order an operator reads a file: by file, then line; origins without a line
   * (system properties, environment, missing settings) after those with one. Stable, so problems on
   * one line keep the order they were found in.
   */
  static final Comparator<ConfigProblem> IN_FILE_ORDER =
      Comparator.comparing((ConfigProblem p) -> !FILE_LINE.matcher(p.origin()).matches())
          .thenComparing(p -> fileOf(p.origin()))
          .thenComparingInt(p -> lineOf(p.origin()));

  private static String fileOf(String origin) {
    Matcher m = FILE_LINE.matcher(origin);
    return m.matches() ? m.group(1) : origin;
  }

  private static int lineOf(String origin) {
    Matcher m = FILE_LINE.matcher(origin);
    try {
      return m.matches() ? Integer.parseInt(m.group(2)) : 0;
    } catch (NumberFormatException e) {
      return Integer.MAX_VALUE;
    }
  }

  private static void checkKnownKeys(
      ConfigObject actual,
      ConfigObject reference,
      List<String> path,
      List<ConfigProblem> problems) {
    String sectionPath = ConfigUtil.joinPath(path);
    new Settings(actual.toConfig(), sectionPath, problems)
        .rejectUnknownKeys(reference.keySet(), sectionPath);
    Map<String, ConfigValue> sorted = new TreeMap<>(actual);
    for (Map.Entry<String, ConfigValue> e : sorted.entrySet()) {
      ConfigValue ref = reference.get(e.getKey());
      if (!(ref instanceof ConfigObject refObject)) {
        continue; // unknown (reported above) or a leaf: its owner's validator checks the value
      }
      List<String> childPath = new ArrayList<>(path);
      childPath.add(e.getKey());
      ConfigValue value = e.getValue();
      if (!(value instanceof ConfigObject object)) {
        problems.add(
            new ConfigProblem(
                ConfigUtil.joinPath(childPath),
                Settings.origin(value.origin()),
                "an object (a section of settings)",
                Settings.describe(ConfigUtil.joinPath(childPath), value)));
      } else if (!refObject.isEmpty()) {
        checkKnownKeys(object, refObject, childPath, problems);
      }
      // an empty object in reference.conf: user-named entries, checked by the section's validator
    }
  }

  private static List<ConfigSectionValidator> validators(ClassLoader loader) {
    List<ConfigSectionValidator> list = new ArrayList<>();
    try {
      for (ConfigSectionValidator v : ServiceLoader.load(ConfigSectionValidator.class, loader)) {
        if (list.stream().noneMatch(o -> o.getClass() == v.getClass())) {
          list.add(v);
        }
      }
    } catch (ServiceConfigurationError e) {
      throw new ConfigurationException(
          "A configuration validator listed in META-INF/services/"
              + ConfigSectionValidator.class.getName()
              + " could not be loaded: "
              + e.getMessage()
              + ". Fix or remove the jar that lists it.",
          e);
    }
    list.sort(Comparator.comparing(v -> v.getClass().getName()));
    return list;
  }

  private static ConfigProblem fromException(ConfigException e, ConfigSectionValidator v) {
    ConfigOrigin origin = e.origin();
    String detail = e.getMessage();
    if (origin != null && detail != null && detail.startsWith(origin.description() + ": ")) {
      detail = detail.substring(origin.description().length() + 2);
    }
    return new ConfigProblem(
        ROOT,
        origin != null ? Settings.origin(origin) : "unknown origin",
        "settings of the shape " + v.getClass().getSimpleName() + " reads",
        detail);
  }

  private static String describe(ConfigValue v) {
    return Settings.describe(ROOT, v);
  }
}
