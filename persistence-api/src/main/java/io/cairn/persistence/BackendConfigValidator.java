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
      InstrumentedBackend.Limits limits) {}

  @Override
  public void validate(Config root, List<ConfigProblem> problems) {
    read(root, Providers.load(Thread.currentThread().getContextClassLoader()), null, problems);
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
      provider.validate(settings);
      specs.add(new BackendSpec(name, provider, merged, durability, dataDir, limits));
    }
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
}
