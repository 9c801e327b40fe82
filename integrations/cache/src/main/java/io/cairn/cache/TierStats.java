package io.cairn.cache;

/**
 * Counters of one persistent tier since the cache opened; also published as gauges {@code
 * cairn.caches.<name>.tiers.<backend>.*}.
 *
 * @param backend the backend holding the tier
 * @param hits reads this tier answered with a live entry
 * @param misses reads this tier could not answer (absent, expired, tag-invalidated)
 * @param evictions entries removed to keep the tier within its bound
 * @param entries entries held now, as the bound counts them; -1 when the tier is unbounded (not
 *     tracked)
 * @param bytes key + stored value bytes held now; -1 when unbounded
 * @param maxEntries entry bound; 0 for none
 * @param maxBytes byte bound; 0 for none
 * @param errors failed operations
 * @param degraded whether the tier is bypassed after failures now
 */
public record TierStats(
    String backend,
    long hits,
    long misses,
    long evictions,
    long entries,
    long bytes,
    long maxEntries,
    long maxBytes,
    long errors,
    boolean degraded) {

  static TierStats of(StoreTier t) {
    TierBound b = t.bound();
    return new TierStats(
        t.name(),
        t.hits(),
        t.misses(),
        t.evictions(),
        b == null ? -1 : b.entries(),
        b == null ? -1 : b.bytes(),
        b == null ? 0 : b.maxEntries(),
        b == null ? 0 : b.maxBytes(),
        t.errors(),
        t.degraded());
  }
}
