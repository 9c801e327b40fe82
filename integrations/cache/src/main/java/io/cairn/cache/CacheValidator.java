package io.cairn.cache;

/**
 * Decides whether a cached value may still be served, e.g. because the source file it was built
 * from has the same modification time, or a dependency is healthy. Consulted on every hit in either
 * tier (not for a value the loader just produced); a rejected value is dropped from both tiers and
 * the lookup continues as a miss. Must be thread-safe and fast; must not call the cache.
 *
 * @param <K> key type
 * @param <V> value type
 */
@FunctionalInterface
public interface CacheValidator<K, V> {
  /** Returns {@code false} if {@code value} is stale and must not be served. */
  boolean isValid(K key, V value);
}
