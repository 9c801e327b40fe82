package io.cairn.cache;

/**
 * Counters of one cache since it was opened, per tier. Also published as Dropwizard gauges under
 * {@code cairn.caches.<name>} ({@code l1.hits}, {@code l1.misses}, {@code l1.evictions}, {@code
 * l1.size}, {@code l2.hits}, {@code l2.misses}, {@code l2.errors}, {@code loads}, {@code
 * load-failures}, {@code rejected}, {@code degraded}) and a timer {@code load}.
 *
 * @param l1Hits lookups answered by the in-memory tier
 * @param l1Misses lookups the in-memory tier could not answer
 * @param l1Evictions in-memory entries evicted by size or expiry
 * @param l1Size in-memory entries now (approximate)
 * @param l2Hits L1 misses answered by the persistent tier
 * @param l2Misses L1 misses the persistent tier could not answer (including while degraded)
 * @param l2Errors failed persistent-tier operations
 * @param loads loader calls that returned
 * @param loadFailures loader calls that threw
 * @param totalLoadTimeNanos time spent in the loader
 * @param rejected values dropped because the validator rejected them
 * @param degraded whether the persistent tier is currently bypassed after failures
 */
public record CacheStats(
    long l1Hits,
    long l1Misses,
    long l1Evictions,
    long l1Size,
    long l2Hits,
    long l2Misses,
    long l2Errors,
    long loads,
    long loadFailures,
    long totalLoadTimeNanos,
    long rejected,
    boolean degraded) {

  /** Hits in either tier divided by lookups; 1 when there were no lookups. */
  public double hitRate() {
    long requests = l1Hits + l1Misses;
    return requests == 0 ? 1.0 : (double) (l1Hits + l2Hits) / requests;
  }

  /** Average loader time in nanoseconds; 0 when nothing was loaded. */
  public double averageLoadNanos() {
    long n = loads + loadFailures;
    return n == 0 ? 0 : (double) totalLoadTimeNanos / n;
  }
}
