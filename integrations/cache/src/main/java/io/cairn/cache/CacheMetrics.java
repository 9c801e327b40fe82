package io.cairn.cache;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import com.codahale.metrics.health.HealthCheck;
import com.codahale.metrics.health.HealthCheckRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The counters of one cache and their publication under {@code cairn.caches.<name>}: the counts
 * listed in {@link CacheStats} as Counters and its levels ({@code l1.size}, {@code degraded}) as
 * Gauges, the Counter {@code upward-fills-shed} (copies into persistent tiers dropped because the
 * fill thread's queue was full, see {@code UpwardFills}), a timer {@code load}, per persistent tier
 * the Counters {@code tiers.<backend>.hits|misses|errors|evictions|wal-pauses|compactions} and the
 * Gauges {@code
 * tiers.<backend>.entries|bytes|max-entries|max-bytes|byte-budget|disk-bytes|degraded} (see {@link
 * TierStats}), and the health check {@code cairn.caches.<name>} (which, like the {@code degraded}
 * gauges, retries a degraded tier whose retry time has passed: see {@code StoreTier}). Counters are
 * plain {@link LongAdder}s updated by the cache; the registry reads them.
 */
final class CacheMetrics {
  final LongAdder l1Hits = new LongAdder();
  final LongAdder l1Misses = new LongAdder();
  final LongAdder l2Hits = new LongAdder();
  final LongAdder l2Misses = new LongAdder();
  final LongAdder loads = new LongAdder();
  final LongAdder loadFailures = new LongAdder();
  final LongAdder loadNanos = new LongAdder();
  final LongAdder rejected = new LongAdder();
  final LongAdder oversizeLoads = new LongAdder();
  final LongAdder fillsShed = new LongAdder(); // copies into persistent tiers dropped: queue full

  private final String cacheName;
  private final String prefix;
  private final MetricRegistry registry;
  private final HealthCheckRegistry healthChecks;
  private final List<String> names = new ArrayList<>();
  private final Timer loadTimer;

  CacheMetrics(String cacheName, MetricRegistry registry, HealthCheckRegistry healthChecks) {
    this.cacheName = cacheName;
    this.prefix = "cairn.caches." + cacheName;
    this.registry = registry;
    this.healthChecks = healthChecks;
    this.loadTimer = registry.timer(prefix + ".load");
    names.add(prefix + ".load");
  }

  void recordLoad(long startNanos) {
    long nanos = System.nanoTime() - startNanos;
    loadNanos.add(nanos);
    loadTimer.update(nanos, TimeUnit.NANOSECONDS);
  }

  void register(TieredCache<?, ?> cache) {
    TierChain chain = cache.chain();
    count("l1.hits", l1Hits::sum);
    count("l1.misses", l1Misses::sum);
    count("l1.evictions", cache::l1Evictions);
    gauge("l1.size", cache::l1Size);
    count("l2.hits", l2Hits::sum);
    count("l2.misses", l2Misses::sum);
    count("l2.errors", chain::errors);
    count("loads", loads::sum);
    count("load-failures", loadFailures::sum);
    count("rejected", rejected::sum);
    count("oversize-loads", oversizeLoads::sum);
    count("upward-fills-shed", fillsShed::sum);
    // A read of a degraded gauge starts the retry of a tier whose time has come without waiting
    // for it (a scrape must not block): the next read shows what it found.
    gauge(
        "degraded",
        () -> {
          chain.probeDue(false);
          return chain.degraded() ? 1L : 0L;
        });
    for (StoreTier t : chain.tiers()) {
      String p = "tiers." + t.name() + ".";
      count(p + "hits", t::hits);
      count(p + "misses", t::misses);
      count(p + "errors", t::errors);
      count(p + "evictions", t::evictions);
      count(p + "wal-pauses", t::walPauses);
      gauge(
          p + "degraded",
          () -> {
            chain.probeDue(false);
            return t.degraded() ? 1L : 0L;
          });
      TierBound b = t.bound();
      if (b != null) {
        gauge(p + "entries", b::entries);
        gauge(p + "bytes", b::bytes);
        gauge(p + "max-entries", b::maxEntries);
        gauge(p + "max-bytes", b::maxBytes);
        gauge(p + "byte-budget", b::budget);
        gauge(p + "disk-bytes", t::diskBytes);
        count(p + "compactions", t::compactions);
      }
    }
    healthChecks.unregister(prefix);
    healthChecks.register(
        prefix,
        new HealthCheck() {
          @Override
          protected Result check() {
            if (cache.isClosed()) {
              return Result.unhealthy("cache '" + cacheName + "' is closed");
            }
            return chain.isEmpty()
                ? Result.healthy("cache '" + cacheName + "': L1 only (no persistent tier)")
                : chain.health();
          }
        });
  }

  /** A count of events: a Counter (reporters derive rates from it), never a Gauge. */
  private void count(String suffix, java.util.function.LongSupplier source) {
    String n = prefix + "." + suffix;
    io.cairn.persistence.spi.Counts.register(registry, n, source);
    names.add(n);
  }

  private void gauge(String suffix, Gauge<Long> g) {
    String n = prefix + "." + suffix;
    registry.remove(n);
    registry.register(n, g);
    names.add(n);
  }

  void unregister() {
    for (String n : names) {
      registry.remove(n);
    }
    healthChecks.unregister(prefix);
  }
}
