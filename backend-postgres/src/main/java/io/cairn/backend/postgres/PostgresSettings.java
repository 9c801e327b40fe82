package io.cairn.backend.postgres;

import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.spi.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The type-specific settings of one PostgreSQL backend, read from {@code
 * cairn.backend-defaults.postgres} merged with the instance entry. Every key is documented in this
 * module's {@code reference.conf}.
 *
 * <p>The password is never part of a message, a log line or {@link #toString()}: a bad {@code
 * password-file} or {@code password-env} is reported by name only, and the value is read at open.
 *
 * @param jdbcUrl {@code jdbc:postgresql://host:port/database}
 * @param user login role, empty for the driver's default
 * @param passwordSource where the password comes from
 * @param schema the schema holding Cairn's tables
 * @param poolSize connections in the pool
 * @param connectTimeout how long opening a connection or waiting for one from the pool may take
 * @param sweeperInterval period of the TTL sweeper; zero disables it
 * @param sweeperBatch rows deleted per sweeper transaction
 * @param snapshotChunkBytes snapshot chunk size
 * @param scanFetchSize rows fetched per round trip by a scan's server-side cursor
 */
record PostgresSettings(
    String jdbcUrl,
    String user,
    PasswordSource passwordSource,
    String schema,
    int poolSize,
    Duration connectTimeout,
    Duration sweeperInterval,
    int sweeperBatch,
    int snapshotChunkBytes,
    int scanFetchSize) {

  /** Where the password comes from; {@link #toString()} never shows a value. */
  record PasswordSource(String kind, String where) {
    static final PasswordSource NONE = new PasswordSource("none", "");

    /** The password, read now (a file is read at each call, so a rotated file is picked up). */
    String read(Function<String, String> env) {
      switch (kind) {
        case "value":
          return where;
        case "file":
          try {
            String s = Files.readString(Path.of(where), StandardCharsets.UTF_8);
            return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
          } catch (IOException e) {
            throw new ConfigurationException(
                "Cannot read the password file "
                    + where
                    + " ("
                    + e.getClass().getSimpleName()
                    + "); check that it exists and is readable by this process");
          }
        case "env":
          String v = env.apply(where);
          if (v == null) {
            throw new ConfigurationException(
                "The environment variable " + where + " named by password-env is not set");
          }
          return v;
        default:
          return null;
      }
    }

    @Override
    public String toString() {
      return switch (kind) {
        case "value" -> "password (set, not shown)";
        case "file" -> "password-file " + where;
        case "env" -> "password-env " + where;
        default -> "no password";
      };
    }
  }

  @Override
  public String toString() {
    return "PostgresSettings[jdbc-url="
        + jdbcUrl
        + ", user="
        + user
        + ", "
        + passwordSource
        + ", schema="
        + schema
        + ", pool-size="
        + poolSize
        + "]";
  }

  private static final long MAX_CHUNK_BYTES = 64L << 20;

  /** Reads every key eagerly, adding one problem per bad setting to {@code s}. */
  static PostgresSettings read(Settings s) {
    return read(s, System::getenv);
  }

  static PostgresSettings read(Settings s, Function<String, String> env) {
    String url = s.string("jdbc-url", "");
    if (url.isBlank()) {
      s.problem(
          "jdbc-url",
          "a PostgreSQL JDBC URL such as jdbc:postgresql://db.example:5432/app",
          "nothing (the key is empty)");
    } else if (!url.startsWith("jdbc:postgresql:")) {
      s.problem(
          "jdbc-url",
          "a URL starting with jdbc:postgresql:, e.g. jdbc:postgresql://db.example:5432/app",
          "a string that does not start with jdbc:postgresql:");
    } else if (url.toLowerCase(java.util.Locale.ROOT).contains("password=")) {
      s.problem(
          "jdbc-url",
          "a URL without a password parameter (set password, password-file or password-env, so"
              + " the secret stays out of logs and messages that show the URL)",
          "a URL with a password= parameter (value not shown)");
    }
    String user = s.string("user", "");
    String password = s.string("password", "");
    String passwordFile = s.string("password-file", "");
    String passwordEnv = s.string("password-env", "");
    int given =
        (password.isEmpty() ? 0 : 1)
            + (passwordFile.isEmpty() ? 0 : 1)
            + (passwordEnv.isEmpty() ? 0 : 1);
    PasswordSource source = PasswordSource.NONE;
    if (given > 1) {
      s.problem(
          "password",
          "at most one of password, password-file and password-env",
          given + " of them (values not shown)");
    } else if (!password.isEmpty()) {
      source = new PasswordSource("value", password);
    } else if (!passwordFile.isEmpty()) {
      Path p = Path.of(passwordFile);
      if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
        s.problem("password-file", "a readable file holding the password", passwordFile);
      }
      source = new PasswordSource("file", passwordFile);
    } else if (!passwordEnv.isEmpty()) {
      if (env.apply(passwordEnv) == null) {
        s.problem(
            "password-env",
            "the name of a set environment variable holding the password",
            passwordEnv + ", which is not set");
      }
      source = new PasswordSource("env", passwordEnv);
    }
    String schema = s.string("schema", "cairn");
    if (!schema.matches("[a-z_][a-z0-9_]{0,62}")) {
      s.problem(
          "schema",
          "a lower-case SQL identifier: a letter or _, then letters, digits or _, at most 63",
          schema);
      schema = "cairn";
    }
    long chunk = s.bytes("snapshot-chunk-size", 4096, 1L << 20);
    if (chunk > MAX_CHUNK_BYTES) {
      s.problem("snapshot-chunk-size", "a size from 4KiB to 64MiB", chunk + " bytes");
      chunk = 1L << 20;
    }
    return new PostgresSettings(
        url,
        user,
        source,
        schema,
        s.intBetween("pool-size", 2, 1000, 10),
        s.duration("connect-timeout", Duration.ofMillis(250), Duration.ofSeconds(10)),
        s.duration("sweeper-interval", Duration.ZERO, Duration.ofSeconds(30)),
        s.intBetween("sweeper-batch", 1, 1_000_000, 1000),
        (int) chunk,
        s.intBetween("scan-fetch-size", 1, 100_000, 256));
  }

  /**
   * Reads the already validated settings at open.
   *
   * @throws ConfigurationException if they are not valid after all
   */
  static PostgresSettings of(com.typesafe.config.Config config, String path) {
    List<ConfigProblem> problems = new ArrayList<>();
    PostgresSettings settings = read(new Settings(config, path, problems));
    Settings.throwIfAny(problems);
    return settings;
  }
}
