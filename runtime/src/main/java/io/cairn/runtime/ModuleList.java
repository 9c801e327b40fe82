package io.cairn.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.Settings;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads {@code cairn.modules}: the one place its entries are parsed and checked (Guice-free, so the
 * plain-Java entry point and the validator share it).
 */
final class ModuleList {
  static final String PATH = "cairn.modules";
  static final String QUEUE = "queue";
  static final String CACHE = "cache";
  static final String ROUTING = "routing";
  static final String RAFT = "raft";

  /** Built-in module name to the configuration section whose entries it opens. */
  static final Map<String, String> BUILT_IN =
      Map.of(
          QUEUE,
          Subsystems.QUEUES,
          CACHE,
          Subsystems.CACHES,
          ROUTING,
          Subsystems.ROUTE_TABLES,
          RAFT,
          io.cairn.raft.RaftGroups.PATH);

  private static final Pattern CLASS_NAME =
      Pattern.compile("([\\p{L}_$][\\p{L}\\p{N}_$]*\\.)+[\\p{L}_$][\\p{L}\\p{N}_$]*");

  // names as strings, never class references: this module must load without Guice
  private static final String GUICE_PACKAGE = "com.google.inject.";
  private static final String GUICE_MODULE = GUICE_PACKAGE + "Module";

  private ModuleList() {}

  /** Whether {@code type} or one of its supertypes is the interface named {@code name}. */
  static boolean implementsByName(Class<?> type, String name) {
    java.util.ArrayDeque<Class<?>> todo = new java.util.ArrayDeque<>();
    todo.add(type);
    Set<Class<?>> seen = new java.util.HashSet<>();
    while (!todo.isEmpty()) {
      Class<?> c = todo.poll();
      if (!seen.add(c)) {
        continue;
      }
      if (c.isInterface() && c.getName().equals(name)) {
        return true;
      }
      if (c.getSuperclass() != null) {
        todo.add(c.getSuperclass());
      }
      todo.addAll(java.util.Arrays.asList(c.getInterfaces()));
    }
    return false;
  }

  /** The entries in order; problems added for malformed ones, which are left out. */
  static List<ModuleEntry> read(Config root, List<ConfigProblem> problems) {
    List<ModuleEntry> out = new ArrayList<>();
    if (!root.hasPath(PATH)) {
      return out;
    }
    ConfigValue value = root.getValue(PATH);
    if (value.valueType() != ConfigValueType.LIST) {
      problems.add(
          new ConfigProblem(
              PATH,
              Settings.origin(value.origin()),
              "a list such as [cache, queue, routing, raft, com.acme.MyModule]",
              value.valueType().name().toLowerCase(Locale.ROOT)));
      return out;
    }
    ConfigList list = (ConfigList) value;
    Set<String> seen = new LinkedHashSet<>();
    for (int i = 0; i < list.size(); i++) {
      ConfigValue v = list.get(i);
      String path = PATH + "[" + i + "]";
      String origin = Settings.origin(v.origin());
      if (v.valueType() != ConfigValueType.STRING) {
        problems.add(
            new ConfigProblem(
                path,
                origin,
                "a module name (one of " + BUILT_IN.keySet() + ") or a class name",
                v.valueType().name().toLowerCase(Locale.ROOT)));
        continue;
      }
      String name = ((String) v.unwrapped()).trim();
      if (!BUILT_IN.containsKey(name) && !CLASS_NAME.matcher(name).matches()) {
        String suggestion = Settings.suggest(name, BUILT_IN.keySet());
        problems.add(
            new ConfigProblem(
                path,
                origin,
                "one of the built-in modules "
                    + new java.util.TreeSet<>(BUILT_IN.keySet())
                    + (suggestion != null ? " (did you mean '" + suggestion + "'?)" : "")
                    + " or the fully-qualified class name of a Guice module",
                "\"" + name + "\""));
        continue;
      }
      if (!seen.add(name)) {
        problems.add(
            new ConfigProblem(path, origin, "each module listed once", "\"" + name + "\" again"));
        continue;
      }
      out.add(new ModuleEntry(name, path, origin));
    }
    return out;
  }

  /**
   * Adds a problem for every built-in section that configures entries although its module is not
   * listed: those entries would silently never open.
   */
  static void checkSectionsHaveModules(
      Config root, List<ModuleEntry> entries, List<ConfigProblem> problems) {
    root = Settings.withRenamedSections(root);
    Set<String> listed = new LinkedHashSet<>();
    entries.forEach(e -> listed.add(e.name()));
    for (Map.Entry<String, String> b : new java.util.TreeMap<>(BUILT_IN).entrySet()) {
      String section = b.getValue();
      if (listed.contains(b.getKey()) || !root.hasPath(section)) {
        continue;
      }
      ConfigValue v = root.getValue(section);
      if (v.valueType() == ConfigValueType.OBJECT && !root.getObject(section).isEmpty()) {
        problems.add(
            new ConfigProblem(
                PATH,
                Settings.origin(root.hasPath(PATH) ? root.getValue(PATH).origin() : v.origin()),
                "to list '"
                    + b.getKey()
                    + "' because "
                    + section
                    + " ("
                    + Settings.origin(v.origin())
                    + ") configures "
                    + root.getObject(section).keySet(),
                "no '" + b.getKey() + "' module"));
      }
    }
  }

  /**
   * Adds a problem for every class-name entry whose class cannot be found, is not a Guice module,
   * or lacks a usable public constructor. Loads each class without initializing it. Its supertypes
   * are compared with Guice's {@code Module} by name, so this code needs no Guice type and gives
   * the same answer with or without Guice on the class path (the CLI bundles none): a class that
   * loads without Guice cannot implement Guice's interface, and a Guice module cannot load without
   * Guice — that is reported as such, since the module cannot be installed there.
   */
  static void checkClasses(
      List<ModuleEntry> entries, ClassLoader loader, List<ConfigProblem> problems) {
    ClassLoader cl = loader != null ? loader : ModuleList.class.getClassLoader();
    for (ModuleEntry e : entries) {
      if (e.builtIn()) {
        continue;
      }
      Class<?> type;
      try {
        type = Class.forName(e.name(), false, cl);
      } catch (ClassNotFoundException | LinkageError notFound) {
        if (notFound instanceof NoClassDefFoundError missing
            && String.valueOf(missing.getMessage()).replace('/', '.').startsWith(GUICE_PACKAGE)) {
          problems.add(
              e.problem(
                  "Guice (com.google.inject) on the class path to load a Guice module",
                  "class " + e.name() + ", which needs " + missing.getMessage() + ", absent here"));
          continue;
        }
        problems.add(
            e.problem(
                "the class name of a Guice module on the classpath (check the spelling and that"
                    + " its jar is on the classpath)",
                "no class \""
                    + e.name()
                    + "\""
                    + (notFound instanceof LinkageError
                        ? " that can be loaded (" + notFound + ")"
                        : "")));
        continue;
      }
      if (!implementsByName(type, GUICE_MODULE)) {
        problems.add(
            e.problem(
                "a class implementing com.google.inject.Module (e.g. extending AbstractModule)",
                "class " + e.name() + ", which is not a Guice module"));
        continue;
      }
      if (java.lang.reflect.Modifier.isAbstract(type.getModifiers())
          || !java.lang.reflect.Modifier.isPublic(type.getModifiers())) {
        problems.add(
            e.problem(
                "a public, non-abstract module class",
                "class "
                    + e.name()
                    + " ("
                    + java.lang.reflect.Modifier.toString(type.getModifiers())
                    + ")"));
        continue;
      }
      boolean constructor = false;
      for (var c : type.getConstructors()) {
        Class<?>[] params = c.getParameterTypes();
        constructor |=
            params.length == 0
                || (params.length == 1 && params[0].getName().equals("com.typesafe.config.Config"));
      }
      if (!constructor) {
        problems.add(
            e.problem(
                "a public constructor taking a com.typesafe.config.Config or no arguments",
                "class " + e.name() + " without one"));
      }
    }
  }
}
