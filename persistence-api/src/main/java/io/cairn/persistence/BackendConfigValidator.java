package io.cairn.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.cairn.persistence.spi.ConfigSectionValidator;
import io.cairn.persistence.spi.Settings;
import io.cairn.persistence.spi.StorageBackendProvider;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Reads and checks {@code cairn.backends}: each instance's type, its keys against the common and
 * type-specific defaults, durability, then the provider's own settings. Public only for
 * ServiceLoader; use {@link PersistenceRegistry#validate(Config)}.
 */
public final class BackendConfigValidator implements ConfigSectionValidator {
  static final String BACKENDS = "cairn.backends";
  static final String DEFAULTS = "cairn.backend-defaults";

  /** One validated backend entry. */
  record BackendSpec(
      String name,
      StorageBackendProvider provider,
      Config merged,
      Durability durability,
      Path dataDir,
      InstrumentedBackend.Limits limits,
      java.util.Optional<BackendEncryption> encryption,
      MaintenanceSettings maintenance) {}

  @Override
  public void validate(Config root, List<ConfigProblem> problems) {
    read(root, Providers.load(Thread.currentThread().getContextClassLoader()), null, problems);
    // cairn.events belongs to the registry too; its unknown keys the reference walk reports
    List<ConfigProblem> events = new ArrayList<>();
    EventSinks.read(root, null, events);
    events.removeIf(p -> p.found().startsWith("unknown key"));
    problems.addAll(events);
  }

  /** Validates and returns the specs; the caller throws if {@code problems} is non-empty. */
  static List<BackendSpec> read(
      Config root,
      Map<String, StorageBackendProvider> providers,
      Path baseDir,
      List<ConfigProblem> problems) {
    List<BackendSpec> specs = new ArrayList<>();
    Settings cairn = new Settings(root.getConfig("cairn"), "cairn", problems);
    String defaultType = cairn.string("default-type", "");
    String dataRoot = cairn.string("data-root", "data");
    String defaultBackend = cairn.string("default-backend", "");
    if (!root.hasPath(BACKENDS)) {
      return specs;
    }
    if (root.getValue(BACKENDS).valueType() != ConfigValueType.OBJECT) {
      cairn.problem(
          "backends", "an object of named backends", "a " + root.getValue(BACKENDS).valueType());
      return specs;
    }
    Config common = root.getConfig(DEFAULTS + ".common");
    Map<String, ConfigValue> entries = new TreeMap<>(root.getObject(BACKENDS));
    for (Map.Entry<String, ConfigValue> e : entries.entrySet()) {
      String name = e.getKey();
      // quoted as needed: a name may contain '.', which a plain concatenation would read as nesting
      String path = ConfigUtil.joinPath("cairn", "backends", name);
      if (e.getValue().valueType() != ConfigValueType.OBJECT) {
        problems.add(
            new ConfigProblem(
                path,
                Settings.origin(e.getValue().origin()),
                "an object such as { type = sqlite, data-dir = \"data/" + name + "\" }",
                e.getValue().valueType().name().toLowerCase(Locale.ROOT)));
        continue;
      }
      if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,127}")) {
        problems.add(
            new ConfigProblem(
                path,
                Settings.origin(e.getValue().origin()),
                "a backend name of 1-128 characters from [A-Za-z0-9._-]",
                "'" + name + "'"));
        continue;
      }
      Config instance = root.getConfig(path);
      Settings raw = new Settings(instance, path, problems);
      String type = instance.hasPath("type") ? raw.string("type", "") : "";
      if (type.isEmpty()) {
        type = defaultType;
      }
      StorageBackendProvider provider = providers.get(type);
      if (provider == null) {
        String found =
            instance.hasPath("type")
                ? "\"" + type + "\""
                : "no type, and the default type \"" + type + "\" is not on the classpath";
        Set<String> known = new TreeSet<>(providers.keySet());
        String suggestion = Settings.suggest(type, known);
        raw.problem(
            "type",
            "one of the known backend types "
                + known
                + (suggestion != null ? " (did you mean '" + suggestion + "'?)" : "")
                + "; add the backend's jar to the classpath to make its type known",
            found);
        continue;
      }
      Config typeDefaults =
          root.hasPath(DEFAULTS + "." + type)
              ? root.getConfig(DEFAULTS + "." + type)
              : com.typesafe.config.ConfigFactory.empty();
      Set<String> allowed = new TreeSet<>(Settings.keysOf(common));
      allowed.addAll(Settings.keysOf(typeDefaults));
      raw.rejectUnknownKeys(allowed, provider.type() + " backend");
      Config merged = instance.withFallback(typeDefaults).withFallback(common);
      Settings settings = new Settings(merged, path, problems);
      Durability durability = settings.oneOf("durability", Durability.class, Durability.NORMAL);
      String dir = settings.string("data-dir", "");
      Path base = baseDir != null ? baseDir : Path.of("");
      Path dataDir =
          (dir.isEmpty() ? base.resolve(dataRoot).resolve(name) : base.resolve(dir))
              .toAbsolutePath()
              .normalize();
      InstrumentedBackend.Limits limits = InstrumentedBackend.Limits.read(settings);
      validateProvider(root, path, type, provider, settings, problems);
      java.util.Optional<BackendEncryption> encryption =
          BackendEncryption.read(merged, path, problems);
      MaintenanceSettings maintenance = MaintenanceSettings.read(settings);
      specs.add(
          new BackendSpec(
              name, provider, merged, durability, dataDir, limits, encryption, maintenance));
    }
    rejectSharedDataDirs(specs, problems);
    if (!defaultBackend.isEmpty() && !entries.containsKey(defaultBackend)) {
      String suggestion = Settings.suggest(defaultBackend, entries.keySet());
      cairn.problem(
          "default-backend",
          "the name of a backend under cairn.backends "
              + entries.keySet()
              + (suggestion != null ? " (did you mean '" + suggestion + "'?)" : "")
              + ", or empty for the only backend",
          "\"" + defaultBackend + "\"");
    }
    return specs;
  }

  /**
   * Runs the provider's own checks. A provider whose jar lacks {@code reference.conf} (no {@code
   * cairn.backend-defaults.<type>}) would report its settings as missing from the user's file; that
   * is the provider's bug, so those reports are replaced by one problem naming the provider and
   * what its jar must ship.
   */
  private static void validateProvider(
      Config root,
      String path,
      String type,
      StorageBackendProvider provider,
      Settings settings,
      List<ConfigProblem> problems) {
    List<ConfigProblem> found = new ArrayList<>();
    Settings own = new Settings(settings.config(), settings.path(), found);
    provider.validate(own);
    if (!root.hasPath(DEFAULTS + "." + type)
        && found.stream().anyMatch(p -> p.found().startsWith("nothing"))) {
      String jar = jarOf(provider.getClass());
      problems.add(
          new ConfigProblem(
              path + ".type",
              Settings.origin(root.getValue(path).origin()),
              "a backend provider that declares its defaults: the jar of "
                  + provider.getClass().getName()
                  + (jar != null ? " (" + jar + ")" : "")
                  + " must contain a reference.conf with cairn.backend-defaults."
                  + type
                  + " { ... } declaring every setting it reads; this is a bug in that provider,"
                  + " not in your configuration",
              "no cairn.backend-defaults."
                  + type
                  + " on the classpath, and the provider reads "
                  + found.stream()
                      .filter(p -> p.found().startsWith("nothing"))
                      .map(p -> p.path().substring(path.length() + 1))
                      .toList()));
      found.removeIf(p -> p.found().startsWith("nothing"));
    }
    problems.addAll(found);
  }

  private static String jarOf(Class<?> type) {
    try {
      var source = type.getProtectionDomain().getCodeSource();
      return source != null && source.getLocation() != null ? source.getLocation().getPath() : null;
    } catch (SecurityException e) {
      return null;
    }
  }

  /**
   * Two durable backends on one data directory (or one inside the other's) would fight over the
   * lock and files at open; report it with the configuration instead. Backends with durability
   * {@code none} keep nothing on disk and are not compared.
   */
  private static void rejectSharedDataDirs(List<BackendSpec> specs, List<ConfigProblem> problems) {
    for (int i = 0; i < specs.size(); i++) {
      for (int j = i + 1; j < specs.size(); j++) {
        BackendSpec a = specs.get(i);
        BackendSpec b = specs.get(j);
        if (a.durability() == Durability.NONE || b.durability() == Durability.NONE) {
          continue;
        }
        if (a.dataDir().startsWith(b.dataDir()) || b.dataDir().startsWith(a.dataDir())) {
          String pathB = ConfigUtil.joinPath("cairn", "backends", b.name());
          String how =
              a.dataDir().equals(b.dataDir())
                  ? "the same data directory "
                  : "overlapping data directories ";
          problems.add(
              new ConfigProblem(
                  pathB + ".data-dir",
                  originOfDataDir(b, pathB),
                  "a data directory of its own: backends '"
                      + a.name()
                      + "' and '"
                      + b.name()
                      + "' have "
                      + how
                      + "("
                      + a.dataDir()
                      + ", "
                      + b.dataDir()
                      + "); give each backend its own data-dir",
                  "\"" + b.dataDir() + "\""));
        }
      }
    }
  }

  private static String originOfDataDir(BackendSpec spec, String path) {
    var origin =
        spec.merged().hasPath("data-dir") ? spec.merged().getValue("data-dir").origin() : null;
    return origin != null && origin.filename() != null
        ? Settings.origin(origin)
        : "data-root of " + path + " (no data-dir set)";
  }

  /**
   * The data directory each backend configured in {@code config} would use (relative paths resolved
   * against {@code baseDir}, or the working directory when null), by backend name; only backends
   * whose settings are valid, and with durability other than {@code none} (those keep nothing on
   * disk). Opens and creates nothing: for tools such as {@code cairn verify} that must not create a
   * directory the configuration names but that does not exist yet.
   *
   * @param config a configuration with reference defaults (as {@code CairnConfig.load} returns)
   */
  public static Map<String, Path> dataDirectories(Config config, Path baseDir) {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    Map<String, Path> out = new TreeMap<>();
    for (BackendSpec spec : read(config, Providers.load(cl), baseDir, new ArrayList<>())) {
      if (spec.durability() != Durability.NONE) {
        out.put(spec.name(), spec.dataDir());
      }
    }
    return out;
  }
}
