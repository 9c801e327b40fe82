package io.cairn.cache;

import io.cairn.persistence.ClosedException;
import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigProblem;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.LifecycleListener;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.Settings;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The caches configured under {@code cairn.cache}, opened with the registry. On open (at {@link
 * LifecycleListener#ORDER_CACHES}: after queues, before route catalogs) it validates every cache
 * and profile, and purges L2 entries whose TTL passed while the service was down. Caches are
 * created on first request with their codecs and closed before the registry closes its backends.
 *
 * <pre>{@code
 * TieredCaches caches = new TieredCaches();
 * try (PersistenceRegistry registry =
 *     PersistenceRegistry.builder().listener(caches).open(config)) {
 *   TieredCache<String, Session> sessions = caches.cache("sessions", Codec.utf8(), sessionCodec);
 * }
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class TieredCaches implements LifecycleListener {
  private static final Logger log = LoggerFactory.getLogger(TieredCaches.class);

  private final Map<String, TieredCache<?, ?>> caches = new LinkedHashMap<>();
  private final Map<String, Codec<?>[]> codecs = new LinkedHashMap<>();
  private PersistenceRegistry registry;
  private Set<String> configured = Set.of();

  /** A listener with no caches open; register it with {@code PersistenceRegistry.Builder}. */
  public TieredCaches() {}

  @Override
  public int order() {
    return ORDER_CACHES;
  }

  @Override
  public String name() {
    return "caches";
  }

  /**
   * Validates {@code cairn.cache} and {@code cairn.cache-profiles}, then purges expired L2 entries
   * of every configured cache.
   *
   * @throws ConfigurationException listing every bad cache setting
   */
  @Override
  public synchronized void onOpen(PersistenceRegistry registry) {
    List<ConfigProblem> problems = new ArrayList<>();
    CacheSettings.validateAll(registry.config(), problems);
    Settings.throwIfAny(problems);
    Set<String> names = CacheSettings.configuredNames(registry.config());
    for (String name : names) {
      CacheSettings s = CacheSettings.read(registry.config(), name, new ArrayList<>());
      for (TierSettings t : s.tiers()) {
        long purged =
            registry.backend(t.backend()).keyValue(TieredCache.namespace(name)).purgeExpired();
        if (purged > 0) {
          log.info(
              "Cache '{}': purged {} entries of tier '{}' that expired while closed",
              name,
              purged,
              t.backend());
        }
      }
    }
    this.registry = registry;
    this.configured = names;
  }

  /** Closes every cache opened through this object, in reverse order. */
  @Override
  public synchronized void onClose(PersistenceRegistry registry) {
    PersistenceException failure = null;
    List<TieredCache<?, ?>> list = new ArrayList<>(caches.values());
    caches.clear();
    codecs.clear();
    this.registry = null;
    for (int i = list.size() - 1; i >= 0; i--) {
      try {
        list.get(i).close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = new PersistenceException("Closing cache failed: " + e.getMessage(), e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Names of the configured caches, sorted. */
  public synchronized Set<String> names() {
    return Collections.unmodifiableSet(new TreeSet<>(configured));
  }

  /**
   * Cache {@code name}, opened on first request with these codecs and no validator. Later requests
   * must pass the same codec instances and get the same cache.
   */
  public <K, V> TieredCache<K, V> cache(String name, Codec<K> keyCodec, Codec<V> valueCodec) {
    return cache(name, keyCodec, valueCodec, null);
  }

  /**
   * Cache {@code name}, opened on first request with these codecs and validator (may be null).
   * Later requests must pass the same codec instances and get the same cache (the validator of the
   * first request stays).
   *
   * @throws ConfigurationException if no cache of that name is configured
   * @throws PersistenceException if the cache is already open with other codec instances (one L1
   *     per L2 namespace keeps the tiers coherent)
   * @throws ClosedException if the registry is not open
   */
  @SuppressWarnings("unchecked")
  public synchronized <K, V> TieredCache<K, V> cache(
      String name,
      Codec<K> keyCodec,
      Codec<V> valueCodec,
      CacheValidator<? super K, ? super V> validator) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(keyCodec, "keyCodec");
    Objects.requireNonNull(valueCodec, "valueCodec");
    if (registry == null) {
      throw new ClosedException(
          "the registry behind these caches", "open a new PersistenceRegistry");
    }
    TieredCache<?, ?> existing = caches.get(name);
    if (existing != null) {
      Codec<?>[] c = codecs.get(name);
      if (c[0] != keyCodec || c[1] != valueCodec) {
        throw new PersistenceException(
            "Cache '"
                + name
                + "' is already open with other codec instances; keep one TieredCache per name"
                + " (inject it) or pass the same Codec instances.");
      }
      return (TieredCache<K, V>) existing;
    }
    if (!configured.contains(name)) {
      String suggestion = Settings.suggest(name, configured);
      throw new ConfigurationException(
          "No cache named '"
              + name
              + "' is configured under cairn.caches"
              + (suggestion != null ? " (did you mean '" + suggestion + "'?)" : "")
              + "; configured caches: "
              + configured);
    }
    TieredCache<K, V> c = TieredCache.open(registry, name, keyCodec, valueCodec, validator);
    caches.put(name, c);
    codecs.put(name, new Codec<?>[] {keyCodec, valueCodec});
    return c;
  }

  /** Cache {@code name} with UTF-8 string keys and raw byte values. */
  public TieredCache<String, byte[]> raw(String name) {
    return cache(name, TieredCache.RawCodecs.KEYS, TieredCache.RawCodecs.VALUES);
  }
}
