package io.cairn.encryption;

import io.cairn.persistence.spi.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads a backend's {@code encryption { ... }} section:
 *
 * <pre>
 * encryption {
 *   key-source = password        # keyset-file | environment | password | kms
 *   keyset-file = "/etc/app/cairn-keyset.json"
 *   keyset-env = ""              # key-source = environment: the variable holding the keyset
 *   password-file = ""           # key-source = password: a file whose first line is the password
 *   password-env = "CAIRN_PASSWORD"
 *   kms-uri = ""                 # key-source = kms: e.g. aws-kms://arn:aws:kms:...
 *   algorithm = aes-256-gcm      # for new keys: aes-256-gcm | xchacha20-poly1305 | xaes-256-gcm
 *   message-limit = 4294967296   # per AES-256-GCM key and backend; only lower is allowed
 * }
 * </pre>
 *
 * Every problem is recorded with its path; no password, key or variable value is ever echoed.
 */
public final class EncryptionSettings {
  static final Set<String> KEYS =
      Set.of(
          "key-source",
          "keyset-file",
          "keyset-env",
          "password-file",
          "password-env",
          "kms-uri",
          "algorithm",
          "message-limit");

  private final KeySource source;
  private final Algorithm algorithm;
  private final long messageLimit;

  private EncryptionSettings(KeySource source, Algorithm algorithm, long messageLimit) {
    this.source = source;
    this.algorithm = algorithm;
    this.messageLimit = messageLimit;
  }

  /**
   * The most messages one AES-256-GCM key may seal in this backend ({@code message-limit}): 2^32
   * unless configured lower (never higher: beyond it a random 96-bit nonce may repeat).
   */
  public long messageLimit() {
    return messageLimit;
  }

  public KeySource source() {
    return source;
  }

  public Algorithm algorithm() {
    return algorithm;
  }

  /**
   * Reads the section; returns empty after recording problems in {@code s}.
   *
   * @param s the {@code encryption} section
   */
  public static Optional<EncryptionSettings> read(Settings s) {
    return read(s, System.getenv());
  }

  static Optional<EncryptionSettings> read(Settings s, Map<String, String> env) {
    int before = s.problems().size();
    s.rejectUnknownKeys(KEYS, "encryption");
    String kind = s.string("key-source", "");
    Algorithm algorithm = algorithm(s);
    long messageLimit = messageLimit(s);
    KeySource source =
        switch (kind) {
          case "keyset-file" -> KeySources.keysetFile(required(s, "keyset-file"));
          case "environment" -> KeySources.environment(requiredName(s, "keyset-env"), env);
          case "password" -> KeySources.password(required(s, "keyset-file"), password(s, env));
          case "kms" -> KeySources.kms(required(s, "keyset-file"), requiredName(s, "kms-uri"));
          default -> {
            s.problem(
                "key-source",
                "one of keyset-file, environment, password, kms",
                kind.isEmpty() ? "nothing" : "'" + kind + "'");
            yield null;
          }
        };
    return s.problems().size() > before || source == null
        ? Optional.empty()
        : Optional.of(new EncryptionSettings(source, algorithm, messageLimit));
  }

  private static Algorithm algorithm(Settings s) {
    String name = optional(s, "algorithm", Algorithm.DEFAULT.configName());
    for (Algorithm a : Algorithm.values()) {
      if (a.configName().equals(name)) {
        return a;
      }
    }
    s.problem(
        "algorithm", "one of aes-256-gcm, xchacha20-poly1305, xaes-256-gcm", "'" + name + "'");
    return Algorithm.DEFAULT;
  }

  private static long messageLimit(Settings s) {
    if (!s.config().hasPath("message-limit")) {
      return TinkEncryption.MAX_MESSAGES;
    }
    String expected = "a whole number from 2 to 4294967296 (2^32; it can only be lowered)";
    try {
      long limit = s.config().getLong("message-limit");
      if (limit >= 2 && limit <= TinkEncryption.MAX_MESSAGES) {
        return limit;
      }
      s.problem("message-limit", expected, Long.toString(limit));
    } catch (com.typesafe.config.ConfigException e) {
      s.problem(
          "message-limit", expected, "'" + s.config().getValue("message-limit").unwrapped() + "'");
    }
    return TinkEncryption.MAX_MESSAGES;
  }

  /** Keys other than key-source may be left out; a present key must still be a string. */
  private static String optional(Settings s, String key, String fallback) {
    return s.config().hasPath(key) ? s.string(key, fallback) : fallback;
  }

  private static Path required(Settings s, String key) {
    String value = optional(s, key, "");
    if (value.isBlank()) {
      s.problem(key, "a file path (this key source needs it)", "nothing");
    }
    return Path.of(value.isBlank() ? "." : value);
  }

  private static String requiredName(Settings s, String key) {
    String value = optional(s, key, "");
    if (value.isBlank()) {
      s.problem(key, "a value (this key source needs it)", "nothing");
    }
    return value;
  }

  /** The password is read when needed, not now, and never kept in a String longer than that. */
  private static java.util.function.Supplier<char[]> password(Settings s, Map<String, String> env) {
    String file = optional(s, "password-file", "");
    String variable = optional(s, "password-env", "");
    if (file.isBlank() == variable.isBlank()) {
      s.problem(
          "password-file",
          "exactly one of password-file and password-env",
          file.isBlank() ? "neither" : "both");
      return () -> new char[0];
    }
    if (!file.isBlank()) {
      Path path = Path.of(file);
      return () -> {
        try {
          String text = Files.readString(path, StandardCharsets.UTF_8);
          int newline = text.indexOf('\n');
          return (newline < 0 ? text : text.substring(0, newline)).strip().toCharArray();
        } catch (IOException e) {
          throw new io.cairn.persistence.PersistenceException(
              "Cannot read the password file " + path + " (" + e.getClass().getSimpleName() + ")");
        }
      };
    }
    return () -> {
      String value = env.get(variable);
      if (value == null) {
        throw new io.cairn.persistence.PersistenceException(
            "The environment variable " + variable + " holding the password is not set");
      }
      return value.toCharArray();
    };
  }
}
