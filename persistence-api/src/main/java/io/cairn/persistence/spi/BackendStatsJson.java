package io.cairn.persistence.spi;

import io.cairn.persistence.BackendStats;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreStats;
import java.util.TreeMap;

/**
 * The JSON document that lists backends and their stores, written once for {@code cairn inspect
 * --json} and the admin endpoint's {@code GET /stores}:
 *
 * <pre>
 * {"backends": [{"name", "type", "durability", "diskBytes",
 *                "stores": [{"kind", "name", "entries", "bytes"}],
 *                "properties": {...sorted by name}}]}
 * </pre>
 *
 * Names, counts and sizes only: never a key or a value. A count or size the backend does not know
 * is {@code -1}, as in {@link StoreStats}. Stateless and thread-safe; the writer is not (see {@link
 * JsonWriter}). A backend's {@code stats()} failure propagates unchanged (the caller decides what
 * to do; the document is then incomplete).
 */
public final class BackendStatsJson {
  private BackendStatsJson() {}

  /** The whole document for every backend of {@code registry}, in its order. */
  public static void writeAll(JsonWriter w, PersistenceRegistry registry) {
    w.beginObject().name("backends").beginArray();
    for (String name : registry.backendNames()) {
      StorageBackend backend = registry.backend(name);
      write(w, backend, backend.stats());
    }
    w.endArray().endObject();
  }

  /** One element of the {@code backends} array: {@code backend} described by its {@code stats}. */
  public static void write(JsonWriter w, StorageBackend backend, BackendStats stats) {
    w.beginObject()
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
      w.beginObject()
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
    w.endArray().name("properties").beginObject();
    new TreeMap<>(stats.properties()).forEach((k, v) -> w.name(k).value(v));
    w.endObject().endObject();
  }
}
