package io.cairn.persistence;

import java.util.List;
import java.util.Map;

/**
 * A point-in-time summary of a backend, for operators ({@code cairn inspect}).
 *
 * @param backend instance name
 * @param type provider type, e.g. {@code sqlite}
 * @param stores per-store sizes, sorted by store id
 * @param diskBytes bytes used on disk by the backend's files, or -1 for none / unknown
 * @param properties engine-specific facts (journal mode, cache usage, ...), for display only
 */
public record BackendStats(
    String backend,
    String type,
    List<StoreStats> stores,
    long diskBytes,
    Map<String, String> properties) {
  public BackendStats {
    stores = List.copyOf(stores);
    properties = Map.copyOf(properties);
  }
}
