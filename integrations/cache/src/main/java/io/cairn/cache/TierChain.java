package io.cairn.cache;

import com.codahale.metrics.health.HealthCheck;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The persistent tiers of one cache, top down ({@code tiers = [l1, fast, main]}: {@code fast}, then
 * {@code main}). A read asks each usable tier in turn and the first live entry answers; the caller
 * fills the tiers above it ({@link #fillAbove}). A write goes to every tier, each at its backend's
 * durability. A failing tier is skipped (see {@link StoreTier}: degraded, then reconciled) while
 * the others serve.
 *
 * <h2>Degradation markers</h2>
 *
 * A degraded tier remembers the keys written during its outage in memory only. So that a process
 * stopped during an outage does not later serve those keys' old values from that tier, the chain
 * records the outage in every other tier: namespace {@code cache.<name>.meta}, key {@code
 * degraded:<backend>}, value empty, written when the tier turns degraded and deleted when it
 * recovers. When the cache opens, a tier named by such a marker in any other tier is cleared first
 * (entries and tags), then the markers are deleted. If every tier fails at once there is nowhere to
 * record it; that case, like a one-tier cache stopped mid-outage, is documented as undetectable:
 * the tier may serve values older than writes made during its outage until they expire.
 *
 * <p>Thread-safe.
 */
final class TierChain {
  private static final Logger log = LoggerFactory.getLogger(TierChain.class);

  /** A live entry and the position of the tier that answered (0 = the top persistent tier). */
  record Hit(int tier, StoreTier.Found found) {}

  private final String cacheName;
  private final List<StoreTier> tiers;
  private final List<KeyValueStore> meta = new ArrayList<>();

  TierChain(CacheSettings settings, Function<String, StorageBackend> backends, Clock clock) {
    this.cacheName = settings.name();
    List<StoreTier> list = new ArrayList<>();
    for (TierSettings t : settings.tiers()) {
      StorageBackend b = backends.apply(t.backend());
      list.add(
          new StoreTier(
              settings.name(), b, t, clock, settings.l2RetryInitial(), settings.l2RetryMax()));
      meta.add(b.keyValue(metaNamespace(settings.name())));
    }
    this.tiers = List.copyOf(list);
    for (int i = 0; i < tiers.size(); i++) {
      int self = i;
      tiers.get(i).listen(() -> mark(self, true), () -> mark(self, false));
    }
  }

  static String metaNamespace(String cacheName) {
    return "cache." + cacheName + ".meta";
  }

  private static byte[] marker(StoreTier t) {
    return ("degraded:" + t.name()).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * At open: clears tiers that another tier records as degraded when the last process stopped, then
   * rebuilds each bounded tier's index (streaming scans).
   */
  void open() {
    for (int i = 0; i < tiers.size(); i++) {
      StoreTier t = tiers.get(i);
      boolean stale = false;
      for (int j = 0; j < tiers.size(); j++) {
        try {
          if (j != i && meta.get(j).get(marker(t)) != null) {
            stale = true;
          }
        } catch (RuntimeException e) {
          // a tier failing at open degrades on its first use like any other failure; its markers
          // are read again at the next open
          log.warn(
              "Cache '{}': could not read outage markers in tier '{}': {}",
              cacheName,
              tiers.get(j).name(),
              e.toString());
        }
      }
      if (stale) {
        log.warn(
            "Cache '{}': tier '{}' was degraded when the cache last stopped (recorded in another"
                + " tier); clearing it, since writes made during that outage did not reach it",
            cacheName,
            t.name());
        t.clear();
        if (t.degraded()) {
          continue; // clearing failed: cleared when it recovers, and the markers stay until then
        }
        for (int j = 0; j < tiers.size(); j++) {
          try {
            meta.get(j).delete(marker(t));
          } catch (RuntimeException e) {
            log.warn(
                "Cache '{}': could not delete the outage marker of '{}' in tier '{}': {}",
                cacheName,
                t.name(),
                tiers.get(j).name(),
                e.toString());
          }
        }
      }
    }
    for (StoreTier t : tiers) {
      t.rebuildIndex();
    }
  }

  /** Records ({@code on}) or removes the outage of tier {@code i} in the other tiers. */
  private void mark(int i, boolean on) {
    byte[] m = marker(tiers.get(i));
    for (int j = 0; j < tiers.size(); j++) {
      if (j == i || (on && tiers.get(j).degraded())) {
        continue;
      }
      try {
        if (on) {
          meta.get(j).put(m, new byte[0]);
        } else {
          meta.get(j).delete(m);
        }
      } catch (RuntimeException e) {
        // that tier's own failure is its own business (it degrades on its next call); a marker
        // left behind only clears a healthy tier at the next open
        log.debug(
            "Cache '{}': could not update outage marker in '{}': {}",
            cacheName,
            tiers.get(j).name(),
            e.toString());
      }
    }
  }

  List<StoreTier> tiers() {
    return tiers;
  }

  boolean isEmpty() {
    return tiers.isEmpty();
  }

  /**
   * The first live entry of {@code key}, top down, skipping unavailable tiers; null if none. Dead
   * entries (tag-invalidated, unreadable) are passed over; {@code deadSeen[0]} is set if there was
   * one.
   */
  Hit find(byte[] key, boolean[] deadSeen) {
    for (int i = 0; i < tiers.size(); i++) {
      StoreTier.Found f = tiers.get(i).read(key);
      if (f == null || f == StoreTier.UNAVAILABLE) {
        continue;
      }
      if (f == StoreTier.DEAD) {
        deadSeen[0] = true;
        continue;
      }
      return new Hit(i, f);
    }
    return null;
  }

  /**
   * A value found in tier {@code below()} to copy into the tiers above it: key {@code k()}, its
   * stored form, expiry {@code expiresAt()} (epoch ms, 0 = none).
   */
  interface Copy {
    byte[] k();

    StoredValue sv();

    long expiresAt();

    int below();
  }

  /**
   * Writes each copy to the tiers above the one it was found in, for the entry's remaining life at
   * {@code now} (expired ones are skipped), one batch per tier ({@link StoreTier#writeCopies}).
   * Call under the write sequence's check of every key.
   */
  void fillAbove(List<? extends Copy> copies, long now) {
    int top = 0;
    for (Copy c : copies) {
      top = Math.max(top, c.below());
    }
    for (int i = 0; i < top; i++) {
      int tier = i;
      List<? extends Copy> here =
          copies.stream().allMatch(c -> c.below() > tier)
              ? copies
              : copies.stream().filter(c -> c.below() > tier).toList();
      tiers.get(i).writeCopies(here, now);
    }
  }

  /** Writes to every tier. */
  void write(byte[] key, String[] tags, byte[] value, Duration ttl) {
    for (StoreTier t : tiers) {
      t.write(key, tags, value, ttl);
    }
  }

  /** Deletes from every tier. */
  void delete(byte[] key) {
    for (StoreTier t : tiers) {
      t.delete(key);
    }
  }

  /** Clears every tier. */
  void clear() {
    for (StoreTier t : tiers) {
      t.clear();
    }
  }

  /** Moves {@code tag} to a new generation in every tier. */
  void invalidateTag(String tag) {
    for (StoreTier t : tiers) {
      t.invalidateTag(tag);
    }
  }

  /** A key evicted from L1: recently used, as far as the tiers' bounds are concerned. */
  void touch(byte[] key) {
    for (StoreTier t : tiers) {
      t.touch(key);
    }
  }

  long purgeExpired() {
    long n = 0;
    for (StoreTier t : tiers) {
      n += t.purgeExpired();
    }
    return n;
  }

  boolean degraded() {
    for (StoreTier t : tiers) {
      if (t.degraded()) {
        return true;
      }
    }
    return false;
  }

  long errors() {
    long n = 0;
    for (StoreTier t : tiers) {
      n += t.errors();
    }
    return n;
  }

  /**
   * Starts a probe of every degraded tier whose retry time has passed (see "Probing a tier nobody
   * calls" in {@link StoreTier}) and, with {@code wait}, waits for them, each at most {@value
   * StoreTier#PROBE_WAIT_MS} ms after it started: they run at once, so the wait is about that long
   * in all. No probe starts after {@link #close} (one already running is still waited for).
   */
  void probeDue(boolean wait) {
    StoreTier.Probe[] running = new StoreTier.Probe[tiers.size()];
    for (int i = 0; i < tiers.size(); i++) {
      running[i] = tiers.get(i).probeIfDue();
    }
    if (wait) {
      for (int i = 0; i < tiers.size(); i++) {
        if (running[i] != null) {
          tiers.get(i).awaitProbe(running[i]);
        }
      }
    }
  }

  /** Sets how long calls and {@link #probeDue} wait for a tier's probe (tests; see StoreTier). */
  void probeWaitForTest(long millis) {
    tiers.forEach(t -> t.probeWaitForTest(millis));
  }

  /** No probe starts after this (the cache is closing; its backends may close next). */
  void close() {
    tiers.forEach(StoreTier::close);
  }

  /**
   * Healthy if no tier is degraded after the due probes ({@link #probeDue}); else unhealthy, naming
   * every degraded tier (the first one's details).
   */
  HealthCheck.Result health() {
    probeDue(true);
    HealthCheck.Result first = null;
    StringBuilder all = new StringBuilder();
    for (StoreTier t : tiers) {
      HealthCheck.Result r = t.health();
      if (!r.isHealthy()) {
        first = first == null ? r : first;
        all.append(all.isEmpty() ? "" : "; and ").append(r.getMessage());
      }
    }
    if (first != null) {
      return HealthCheck.Result.builder()
          .unhealthy()
          .withMessage(all.toString())
          .withDetail("degraded", true)
          .withDetail("tier", first.getDetails().get("tier"))
          .withDetail("errors", errors())
          .withDetail("probe-timed-out", first.getDetails().get("probe-timed-out"))
          .build();
    }
    List<String> names = tiers.stream().map(StoreTier::name).toList();
    return HealthCheck.Result.healthy(
        "cache '" + cacheName + "': L1 and tiers " + names + " in use");
  }
}
