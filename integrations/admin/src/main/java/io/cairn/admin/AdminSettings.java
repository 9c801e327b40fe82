package io.cairn.admin;

import com.typesafe.config.Config;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.spi.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Settings of the admin endpoint, read from {@code cairn.admin} (see {@code reference.conf}) or
 * built in code. Immutable and thread-safe. {@link #toString()} never shows the token.
 */
public final class AdminSettings {
  static final String PATH = "cairn.admin";

  private final boolean enabled;
  private final String host;
  private final int port;
  private final Optional<String> token;
  private final Optional<Path> backupDirectory;
  private final int threads;

  private AdminSettings(
      boolean enabled,
      String host,
      int port,
      Optional<String> token,
      Optional<Path> backupDirectory,
      int threads) {
    this.enabled = enabled;
    this.host = host;
    this.port = port;
    this.token = token;
    this.backupDirectory = backupDirectory;
    this.threads = threads;
  }

  /** Loopback, the given port, no token, no backups. */
  public static AdminSettings loopback(int port) {
    return new AdminSettings(true, "127.0.0.1", port, Optional.empty(), Optional.empty(), 2);
  }

  /** A copy that binds {@code host}. */
  public AdminSettings withHost(String host) {
    return new AdminSettings(enabled, host, port, token, backupDirectory, threads);
  }

  /** A copy that requires {@code token} (not blank) for state changes and non-loopback access. */
  public AdminSettings withToken(String token) {
    if (token == null || token.isBlank()) {
      throw new IllegalArgumentException("admin token must not be blank");
    }
    return new AdminSettings(enabled, host, port, Optional.of(token), backupDirectory, threads);
  }

  /** A copy whose {@code POST /backup} writes checkpoints under {@code dir}. */
  public AdminSettings withBackupDirectory(Path dir) {
    return new AdminSettings(enabled, host, port, token, Optional.of(dir), threads);
  }

  /**
   * Reads {@code cairn.admin} of a resolved configuration; the token is read from its file or
   * environment variable now.
   *
   * @throws io.cairn.persistence.ConfigurationException listing every bad setting, with path and
   *     file:line; never echoing a token
   */
  public static AdminSettings fromConfig(Config root) {
    return fromConfig(root, System.getenv());
  }

  static AdminSettings fromConfig(Config root, Map<String, String> environment) {
    List<ConfigProblem> problems = new ArrayList<>();
    AdminSettings settings = read(root, environment, problems);
    Settings.throwIfAny(problems);
    return settings;
  }

  /** Reads and records problems; returns usable fallbacks after a problem. */
  static AdminSettings read(Config root, Map<String, String> env, List<ConfigProblem> problems) {
    if (!root.hasPath(PATH)) {
      return new AdminSettings(false, "127.0.0.1", 9470, Optional.empty(), Optional.empty(), 2);
    }
    Settings s = new Settings(root.getConfig(PATH), PATH, problems);
    boolean enabled = s.bool("enabled", false);
    String host = s.string("host", "127.0.0.1");
    if (host.isBlank()) {
      s.problem("host", "a host name or address to bind, e.g. 127.0.0.1", "an empty string");
    }
    int port = s.intBetween("port", 0, 65535, 9470);
    int threads = s.intBetween("threads", 1, 16, 2);
    String backupDir = s.string("backup-directory", "");
    // A disabled endpoint needs no token: `cairn verify` on an operator's machine must not fail
    // for want of the service's environment variable.
    Optional<String> token = enabled ? readToken(s, env) : Optional.empty();
    return new AdminSettings(
        enabled,
        host,
        port,
        token,
        backupDir.isBlank() ? Optional.empty() : Optional.of(Path.of(backupDir)),
        threads);
  }

  private static Optional<String> readToken(Settings s, Map<String, String> env) {
    String file = s.string("token-file", "");
    String variable = s.string("token-env", "");
    if (!file.isBlank() && !variable.isBlank()) {
      s.problem("token-env", "only one of token-file and token-env", "both set");
      return Optional.empty();
    }
    if (!file.isBlank()) {
      try {
        String line = Files.readString(Path.of(file), StandardCharsets.UTF_8).strip();
        int newline = line.indexOf('\n');
        String token = (newline < 0 ? line : line.substring(0, newline)).strip();
        if (token.isEmpty()) {
          s.problem("token-file", "a file whose first line is the token", "an empty file " + file);
          return Optional.empty();
        }
        return Optional.of(token);
      } catch (IOException e) {
        s.problem(
            "token-file",
            "a readable file holding the token",
            "cannot read " + file + " (" + e.getClass().getSimpleName() + ")");
        return Optional.empty();
      }
    }
    if (!variable.isBlank()) {
      String token = env.get(variable);
      if (token == null || token.isBlank()) {
        s.problem(
            "token-env",
            "the name of a set, non-empty environment variable",
            "variable " + variable + " is not set or empty");
        return Optional.empty();
      }
      return Optional.of(token.strip());
    }
    return Optional.empty();
  }

  public boolean enabled() {
    return enabled;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  Optional<String> token() {
    return token;
  }

  public boolean hasToken() {
    return token.isPresent();
  }

  public Optional<Path> backupDirectory() {
    return backupDirectory;
  }

  public int threads() {
    return threads;
  }

  @Override
  public String toString() {
    return "AdminSettings{host="
        + host
        + ", port="
        + port
        + ", token="
        + (token.isPresent() ? "<set>" : "<none>")
        + ", backupDirectory="
        + backupDirectory.map(Path::toString).orElse("<none>")
        + ", threads="
        + threads
        + "}";
  }
}
