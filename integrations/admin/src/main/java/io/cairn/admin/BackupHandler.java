package io.cairn.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /backup?backend=NAME}: an online backup of one backend ({@link
 * PersistenceRegistry#backup}: its {@link StorageBackend#checkpoint} plus the {@code
 * cairn-backup.json} manifest that {@code cairn restore} checks) into {@code
 * <backup-directory>/<backend>-<yyyyMMdd'T'HHmmss'Z'>}, taken inside the service, which owns the
 * engine handle (a RocksDB checkpoint cannot be taken by a second process). The target is chosen
 * here, never by the caller, so a request cannot make the service write elsewhere. Answers {@code
 * {"backend": NAME, "path": DIR}}; 404 when no backup directory is configured, 400 for an unknown
 * backend, 409 when that directory exists, 501 when the backend cannot take online checkpoints.
 */
final class BackupHandler implements HttpHandler {
  private static final Logger LOG = LoggerFactory.getLogger(BackupHandler.class);
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private final PersistenceRegistry registry;
  private final Optional<Path> directory;
  private final Clock clock;

  BackupHandler(PersistenceRegistry registry, Optional<Path> directory, Clock clock) {
    this.registry = registry;
    this.directory = directory;
    this.clock = clock;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    if (!Responses.method(exchange, "POST")) {
      return;
    }
    if (directory.isEmpty()) {
      Responses.error(
          exchange, 404, "backups are disabled: set cairn.admin.backup-directory to enable them");
      return;
    }
    String name = parameter(exchange.getRequestURI().getRawQuery(), "backend");
    if (name == null || !registry.backendNames().contains(name)) {
      Responses.error(
          exchange,
          400,
          "name a configured backend: ?backend=" + String.join("|", registry.backendNames()));
      return;
    }
    Path target = directory.get().resolve(name + "-" + STAMP.format(clock.instant()));
    if (Files.exists(target)) {
      Responses.error(exchange, 409, target + " exists already; try again in a second");
      return;
    }
    Files.createDirectories(directory.get());
    try {
      LOG.info("Cairn admin: backup of backend '{}' to {} started", name, target);
      // The registry's backup: the engine's checkpoint plus the manifest cairn restore checks.
      registry.backup(name, target, Progress.NONE);
      LOG.info("Cairn admin: backup of backend '{}' to {} finished", name, target);
    } catch (UnsupportedOperationException e) {
      Responses.error(exchange, 501, e.getMessage());
      return;
    }
    Responses.json(
        exchange,
        200,
        w ->
            w.beginObject()
                .name("backend")
                .value(name)
                .name("path")
                .value(target.toString())
                .endObject());
  }

  static String parameter(String rawQuery, String name) {
    if (rawQuery == null) {
      return null;
    }
    for (String pair : rawQuery.split("&")) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      if (key.equals(name)) {
        return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }
}
