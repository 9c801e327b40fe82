package io.cairn.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.spi.ConfigSectionValidator;
import io.cairn.persistence.spi.Settings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Loads and validates Cairn configuration.
 *
 * <h2>Layers</h2>
 *
 * Highest priority first, the way Typesafe Config's {@code ConfigFactory.load} stacks them:
 *
 * <ol>
 *   <li>Environment overrides: variables named {@code CONFIG_FORCE_<path>}, with {@code _} for
 *       {@code .}, {@code __} for {@code -} and {@code ___} for {@code _} (e.g. {@code
 *       CONFIG_FORCE_cairn_data__root=/srv/data} sets {@code cairn.data-root}). Typesafe applies
 *       these only under {@code -Dconfig.override_with_env_vars=true}; Cairn always applies them,
 *       since the prefix is already an explicit request ({@link
 *       ConfigFactory#systemEnvironmentOverrides()}).
 *   <li>JVM system properties, e.g. {@code -Dcairn.default-backend=main} ({@link
 *       ConfigFactory#systemProperties()}; cached by Typesafe Config until {@link
 *       ConfigFactory#invalidateCaches()}).
 *   <li>The application's file: {@link #load(Path)}'s file, or for {@link #load()} the classpath
 *       {@code application.conf}/{@code .json}/{@code .properties} (or what {@code -Dconfig.file},
 *       {@code -Dconfig.resource}, {@code -Dconfig.url} name).
 *   <li>Every module's {@code reference.conf} on the classpath, merged.
 * </ol>
 *
 * The stack is then resolved, so {@code ${...}} substitutions may refer to any layer and to
 * environment variables.
 *
 * <h2>Formats</h2>
 *
 * {@link #load(Path)} chooses the format by file extension (case-insensitive): {@code .conf}
 * (HOCON, with relative {@code include}s resolved against the file's directory), {@code .json},
 * {@code .properties} and {@code .toml}. All four map onto the same tree: an equivalent HOCON, JSON
 * and TOML file give equal {@link Config} values; a properties file gives the same tree with every
 * value a string (Config's getters convert them, so {@code getInt}, {@code getDuration} etc. read
 * the same). TOML durations and sizes are strings such as {@code "30s"} and {@code "256MiB"}, as in
 * HOCON; TOML date-times become ISO-8601 strings. Every value's origin is its file and line in all
 * four formats, so problems are reported as {@code file:line}.
 *
 * <h2>Validation</h2>
 *
 * {@link #validate(Config)} reads every setting eagerly and throws one {@link
 * ConfigurationException} listing every {@link ConfigProblem} (path, {@code file:line}, expected,
 * found). First, every key under {@code cairn} must be declared by some module's {@code
 * reference.conf}: Typesafe Config does not catch typos, so an undeclared key is an error with a
 * did-you-mean suggestion. Then every {@link ConfigSectionValidator} registered through {@code
 * META-INF/services} checks its section.
 *
 * <h3>How a module declares its settings</h3>
 *
 * <ul>
 *   <li>A fixed setting: declare it with its default and a comment in the module's {@code
 *       reference.conf}, e.g. {@code cairn.data-root = "data"}. Nested sections are checked key by
 *       key all the way down.
 *   <li>A map of user-named entries (backends, caches, queues, route tables): declare the section
 *       as an <b>empty object</b> in {@code reference.conf}, e.g. {@code cairn.queues {}}. The key
 *       check stops there and does not flag the user's entry names; the module must register a
 *       {@link ConfigSectionValidator} that reads each entry with {@link
 *       io.cairn.persistence.spi.Settings} (including {@code rejectUnknownKeys} for the entry's
 *       keys). Defaults for entries go in a separate non-empty section, as {@code
 *       cairn.backend-defaults} does for {@code cairn.backends}.
 * </ul>
 *
 * <h2>Errors</h2>
 *
 * Only {@link ConfigurationException} escapes for bad input: a missing, unreadable or non-UTF-8
 * file, an unsupported extension, a syntax error in any format (message: file, line and what the
 * parser expected), an unresolved substitution, and invalid settings. Never a Typesafe or
 * night-config exception.
 *
 * <p>All methods are static and thread-safe. Providers, validators and {@code reference.conf} files
 * are found through the thread's context class loader.
 */
public final class CairnConfig {
  /** The file extensions {@link #load(Path)} understands, lower-case, with the dot. */
  public static final Set<String> EXTENSIONS = Set.of(".conf", ".json", ".properties", ".toml");

  private CairnConfig() {}

  /**
   * The application configuration from the classpath, layered and resolved (see the class
   * documentation). If {@code -Dconfig.file} is set (and neither {@code config.resource} nor {@code
   * config.url}), that file is loaded with {@link #load(Path)} instead, so it may be any supported
   * format including TOML, and it must exist.
   *
   * @throws ConfigurationException if a file cannot be read or parsed, or a substitution cannot be
   *     resolved; settings are not validated (see {@link #validate(Config)})
   */
  public static Config load() {
    String file = System.getProperty("config.file");
    if (file != null
        && System.getProperty("config.resource") == null
        && System.getProperty("config.url") == null) {
      return load(Path.of(file));
    }
    ClassLoader loader = loader();
    Config application;
    try {
      application =
          ConfigFactory.defaultApplication(
              ConfigParseOptions.defaults()
                  .setClassLoader(loader)
                  .setIncluder(new GuardedIncluder(urlIncludesAllowed())));
    } catch (StackOverflowError e) {
      throw tooDeep("the classpath application configuration", e);
    } catch (ConfigException e) {
      throw ConfigErrors.translate(e, "the classpath application configuration");
    }
    try {
      return layer(application, loader);
    } catch (StackOverflowError e) {
      throw tooDeep("the classpath application configuration", e);
    }
  }

  /**
   * The configuration in {@code file} over every module's {@code reference.conf}, with environment
   * and system-property overrides, resolved.
   *
   * @throws ConfigurationException if the file is missing, unreadable, of an unsupported format or
   *     malformed (naming the file and line), or a substitution cannot be resolved; settings are
   *     not validated (see {@link #validate(Config)})
   */
  public static Config load(Path file) {
    Config parsed = parseFile(file);
    try {
      return layer(parsed, loader());
    } catch (StackOverflowError e) {
      throw tooDeep(file.toString(), e);
    }
  }

  /**
   * {@link #load(Path)} then {@link #validate(Config)}: what the {@code cairn} command runs before
   * anything is opened.
   *
   * @return the validated configuration, reference defaults included
   * @throws ConfigurationException for any problem with the file or any setting; when settings are
   *     invalid, {@link ConfigurationException#problems()} lists each one
   */
  public static Config loadAndValidate(Path file) {
    Config config = load(file);
    validate(config);
    return config;
  }

  /**
   * Only the settings written in {@code file}, in its format chosen by extension: no reference
   * defaults, no overrides, not resolved. Every value's origin is {@code file:line}. For tools that
   * need to know what a file itself says (e.g. to convert between formats).
   *
   * @throws ConfigurationException as {@link #load(Path)} for file and syntax problems
   */
  public static Config parseFile(Path file) {
    Objects.requireNonNull(file, "file");
    String name = file.toString();
    String extension = extensionOf(file);
    if (!EXTENSIONS.contains(extension)) {
      throw new ConfigurationException(
          "Cannot load configuration file "
              + name
              + ": unsupported extension '"
              + extension
              + "'. Use one of "
              + new TreeSet<>(EXTENSIONS)
              + " (HOCON, JSON, Java properties, TOML).");
    }
    if (Files.isDirectory(file)) {
      throw new ConfigurationException(
          "Cannot load configuration file " + name + ": it is a directory. Name a file.");
    }
    String text = read(file);
    try {
      return switch (extension) {
        case ".toml" -> TomlFiles.parse(name, text);
        case ".properties" -> PropertiesFiles.parse(name, text);
        default ->
            typesafe(file, extension.equals(".json") ? ConfigSyntax.JSON : ConfigSyntax.CONF);
      };
    } catch (StackOverflowError e) {
      throw tooDeep(name, e);
    }
  }

  /**
   * The parsers and the resolver recurse once per level of nesting, so a file nested thousands of
   * levels deep exhausts the thread's stack. That is bad input, not an internal failure: Cairn's
   * own settings are a few levels deep.
   */
  private static ConfigurationException tooDeep(String what, StackOverflowError e) {
    return new ConfigurationException(
        "Cannot read configuration "
            + what
            + ": it nests objects or arrays too deeply to read (the parser ran out of stack)."
            + " Cairn's settings are at most a few levels deep; remove the deep nesting.",
        e);
  }

  /**
   * The name of the switch that allows {@code include url(...)} (and {@code include "http://..."})
   * in HOCON files: the system property {@value} or the environment variable {@code
   * CAIRN_ALLOW_URL_INCLUDES}, set to {@code true}. Off by default: a configuration file is data,
   * and an include that fetches from the network would let whoever controls that URL (or the
   * network path to it) configure the service, and makes {@code cairn verify} reach out to it.
   */
  public static final String ALLOW_URL_INCLUDES = "cairn.config.allow-url-includes";

  static boolean urlIncludesAllowed() {
    String p = System.getProperty(ALLOW_URL_INCLUDES);
    String v = p != null ? p : System.getenv("CAIRN_ALLOW_URL_INCLUDES");
    return v != null && v.trim().equalsIgnoreCase("true");
  }

  /**
   * Warnings about a configuration that is valid but will change meaning in a future release, such
   * as deprecated section names ({@code cairn.cache}, {@code cairn.routing}); empty when there are
   * none. {@code cairn verify} prints them; services get them logged once when a section is read.
   */
  public static List<String> warnings(Config config) {
    return Settings.deprecations(config);
  }

  /**
   * Checks every Cairn setting in {@code config} at once (reference defaults are applied first if
   * {@code config} lacks them) and throws if anything is wrong. Opens nothing and writes nothing.
   *
   * @throws ConfigurationException listing every problem, each with path, {@code file:line},
   *     expected and found; or for a substitution that cannot be resolved, or a validator that
   *     cannot be loaded
   * @throws PersistenceException if a registered {@link ConfigSectionValidator} fails with an
   *     unexpected exception (a bug in that module)
   */
  public static void validate(Config config) {
    Objects.requireNonNull(config, "config");
    try {
      ConfigValidation.validate(config, loader());
    } catch (StackOverflowError e) {
      throw tooDeep("(the settings tree)", e);
    }
  }

  /**
   * The files that supplied at least one value of {@code config} (the loaded file and any files it
   * includes), sorted; empty if every value came from classpath resources, overrides or code. Found
   * from the values' origins, so it works on any Config this class loaded, and on subtrees of one.
   * For messages such as "configuration from /etc/cairn/app.toml".
   */
  public static Set<String> sourceFiles(Config config) {
    Set<String> files = new TreeSet<>();
    collectFiles(config.root(), files);
    return files;
  }

  private static void collectFiles(ConfigValue value, Set<String> files) {
    if (value instanceof ConfigObject object) {
      for (Map.Entry<String, ConfigValue> e : object.entrySet()) {
        collectFiles(e.getValue(), files);
      }
    } else if (value instanceof List<?> list) {
      for (Object o : list) {
        collectFiles((ConfigValue) o, files);
      }
    } else if (value.origin().filename() != null && value.origin().resource() == null) {
      files.add(value.origin().filename());
    }
  }

  private static Config layer(Config application, ClassLoader loader) {
    try {
      return ConfigFactory.systemEnvironmentOverrides()
          .withFallback(ConfigFactory.systemProperties())
          .withFallback(application)
          .withFallback(ConfigFactory.defaultReferenceUnresolved(loader))
          .resolve();
    } catch (ConfigException e) {
      throw ConfigErrors.translate(e, "the configuration");
    }
  }

  private static Config typesafe(Path file, ConfigSyntax syntax) {
    try {
      return ConfigFactory.parseFile(
          file.toFile(),
          ConfigParseOptions.defaults()
              .setSyntax(syntax)
              .setAllowMissing(false)
              .setIncluder(new GuardedIncluder(urlIncludesAllowed())));
    } catch (ConfigException e) {
      throw ConfigErrors.translate(
          e, (syntax == ConfigSyntax.JSON ? "JSON" : "HOCON") + " file " + file);
    }
  }

  /** The whole file as UTF-8, or a ConfigurationException saying why it cannot be read. */
  private static String read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ConfigurationException(
          "Configuration file "
              + file
              + " does not exist (looked for "
              + file.toAbsolutePath()
              + "). Check the path.",
          e);
    } catch (AccessDeniedException e) {
      throw new ConfigurationException(
          "Cannot read configuration file "
              + file
              + ": permission denied. Make it readable by this user.",
          e);
    } catch (IOException e) {
      throw new ConfigurationException(
          "Cannot read configuration file " + file + ": " + e + ". Check the file and the disk.",
          e);
    }
    ByteBuffer buffer = ByteBuffer.wrap(bytes);
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(buffer)
          .toString();
    } catch (CharacterCodingException e) {
      int line = 1;
      for (int i = 0; i < buffer.position() && i < bytes.length; i++) {
        if (bytes[i] == '\n') {
          line++;
        }
      }
      throw new ConfigurationException(
          "Cannot read configuration file "
              + file
              + ":"
              + line
              + ": not valid UTF-8 text. Save the file as UTF-8.",
          e);
    }
  }

  private static String extensionOf(Path file) {
    Path name = file.getFileName();
    String s = name == null ? "" : name.toString();
    int dot = s.lastIndexOf('.');
    return dot < 0 ? "" : s.substring(dot).toLowerCase(Locale.ROOT);
  }

  private static ClassLoader loader() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    return cl != null ? cl : CairnConfig.class.getClassLoader();
  }
}
