package io.cairn.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreStats;
import java.io.IOException;
import java.util.TreeMap;

/**
 * {@code GET /stores}: {@code {"backends": [{"name", "type", "durability", "diskBytes", "stores":
 * [{"kind", "name", "entries", "bytes"}], "properties": {...}}]}} — the document {@code cairn
 * inspect --json} prints. Names, counts and sizes only: no key or value.
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
    Json json = new Json().beginObject().name("backends").beginArray();
    for (String name : registry.backendNames()) {
      StorageBackend backend = registry.backend(name);
      BackendStats stats = backend.stats();
      json.beginObject()
          .name("name")
          .value(stats.backend())
          .name("type")
          .value(stats.type())
          .name("durability")
          .value(backend.durability().configName())
          .name("diskBytes")
          .value(stats.diskBytes())
          .name("stores")
          .beginArray();
      for (StoreStats s : stats.stores()) {
        json.beginObject()
            .name("kind")
            .value(s.store().kind().shortName())
            .name("name")
            .value(s.store().name())
            .name("entries")
            .value(s.entries())
            .name("bytes")
            .value(s.bytes())
            .endObject();
      }
      json.endArray().name("properties").beginObject();
      new TreeMap<>(stats.properties()).forEach((k, v) -> json.name(k).value(v));
      json.endObject().endObject();
    }
    Responses.json(exchange, 200, json.endArray().endObject().text());
  }
}
