package io.cairn.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.BackendStatsJson;
import java.io.IOException;

/**
 * {@code GET /stores}: {@code {"backends": [{"name", "type", "durability", "diskBytes", "stores":
 * [{"kind", "name", "entries", "bytes"}], "properties": {...}}]}} — the document {@code cairn
 * inspect --json} prints, written by the one {@link BackendStatsJson}. Names, counts and sizes
 * only: no key or value.
 */
final class StoresHandler implements HttpHandler {
  private final PersistenceRegistry registry;

  StoresHandler(PersistenceRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void handle(HttpExchange exchange) throws IOException {
    if (!Responses.method(exchange, "GET")) {
      return;
    }
    Responses.json(exchange, 200, w -> BackendStatsJson.writeAll(w, registry));
  }
}
