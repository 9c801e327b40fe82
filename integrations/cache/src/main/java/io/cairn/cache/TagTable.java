package io.cairn.cache;

import io.cairn.persistence.KeyValueStore;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tag generations of one persistent tier, stored in that tier's backend so that {@code
 * invalidateTag} survives a restart without scanning entries.
 *
 * <p>Stored layout: namespace {@code cache.<name>.tags}; key = the tag's UTF-8 bytes, value = its
 * generation as 8 bytes big-endian, no TTL. A tag never invalidated has no row (generation 0). An
 * entry written with tag {@code t} records {@code t}'s generation then ({@link StoredValue}); it is
 * live only while the row still holds that generation. {@link #bump} writes the row before it
 * returns (at the backend's durability), so after a crash either the bump is durable and the old
 * entries are dead, or {@code invalidateTag} had not returned. Rows are never deleted (one per tag
 * ever invalidated: a few bytes each). A row that is not 8 bytes is damage: reported by {@link
 * IllegalStateException} naming the store and tag (the tier then degrades and is cleared when it
 * recovers, see {@code StoreTier}). Thread-safe.
 */
final class TagTable {
  private final KeyValueStore store;
  private final ConcurrentHashMap<String, Long> generations = new ConcurrentHashMap<>();

  TagTable(KeyValueStore store) {
    this.store = store;
  }

  static String namespace(String cacheName) {
    return "cache." + cacheName + ".tags";
  }

  /** The generation of {@code tag} in this tier (read from the store once, then kept). */
  long generation(String tag) {
    Long g = generations.get(tag);
    if (g != null) {
      return g;
    }
    return generations.computeIfAbsent(tag, this::read);
  }

  /** Whether {@code v}'s tags all still have the generations it recorded. */
  boolean live(StoredValue v) {
    String[] tags = v.tags();
    for (int i = 0; i < tags.length; i++) {
      if (generation(tags[i]) != v.generations()[i]) {
        return false;
      }
    }
    return true;
  }

  /** The generations of {@code tags} now, for an entry about to be written. */
  long[] current(String[] tags) {
    long[] out = new long[tags.length];
    for (int i = 0; i < tags.length; i++) {
      out[i] = generation(tags[i]);
    }
    return out;
  }

  /** Moves {@code tag} to a new generation and stores it; entries carrying it are dead after. */
  synchronized void bump(String tag) {
    // the stored row, not only the generation read earlier: another instance may have moved it
    long next = Math.max(generation(tag), read(tag)) + 1;
    store.put(tag.getBytes(StandardCharsets.UTF_8), ByteBuffer.allocate(8).putLong(next).array());
    generations.put(tag, next);
  }

  /** Forgets what was read (the store may have changed underneath, e.g. after recovery). */
  void reload() {
    generations.clear();
  }

  private long read(String tag) {
    byte[] v = store.get(tag.getBytes(StandardCharsets.UTF_8));
    if (v == null) {
      return 0;
    }
    if (v.length != 8) {
      throw new IllegalStateException(
          "tag table '"
              + store.name()
              + "': the row of tag '"
              + tag
              + "' has "
              + v.length
              + " bytes, not 8; the tier is cleared when it recovers");
    }
    return ByteBuffer.wrap(v).getLong();
  }
}
