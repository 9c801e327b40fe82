package io.cairn.runtime;

import com.typesafe.config.Config;
import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigProblem;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The element types of queues and caches, chosen in code ({@link Cairn.Builder#queueCodec}, {@link
 * Cairn.Builder#cacheCodecs}): a queue or cache stores bytes, so its types are not configuration.
 * Mutable while the builder fills it, then copied into an immutable instance by {@link #freeze()}.
 * Not thread-safe until frozen.
 */
final class Codecs {
  /** Types and codec of one queue's payloads ({@code codec} null: raw {@code byte[]}). */
  record QueueCodec(Class<?> type, Codec<?> codec) {}

  /** Types and codecs of one cache's keys and values ({@code keyCodec} null: the raw cache). */
  record CacheCodecs(
      Class<?> keyType, Codec<?> keyCodec, Class<?> valueType, Codec<?> valueCodec) {}

  private static final QueueCodec RAW_QUEUE = new QueueCodec(byte[].class, null);
  private static final CacheCodecs RAW_CACHE =
      new CacheCodecs(String.class, null, byte[].class, null);

  private final Map<String, QueueCodec> queues;
  private final Map<String, CacheCodecs> caches;

  Codecs() {
    this(new LinkedHashMap<>(), new LinkedHashMap<>());
  }

  private Codecs(Map<String, QueueCodec> queues, Map<String, CacheCodecs> caches) {
    this.queues = queues;
    this.caches = caches;
  }

  <T> void queue(String queue, Class<T> type, Codec<T> codec) {
    Objects.requireNonNull(queue, "queue");
    queues.put(
        queue,
        new QueueCodec(
            Objects.requireNonNull(type, "type"), Objects.requireNonNull(codec, "codec")));
  }

  <K, V> void cache(
      String cache, Class<K> keyType, Codec<K> keyCodec, Class<V> valueType, Codec<V> valueCodec) {
    Objects.requireNonNull(cache, "cache");
    caches.put(
        cache,
        new CacheCodecs(
            Objects.requireNonNull(keyType, "keyType"),
            Objects.requireNonNull(keyCodec, "keyCodec"),
            Objects.requireNonNull(valueType, "valueType"),
            Objects.requireNonNull(valueCodec, "valueCodec")));
  }

  /** An immutable copy. */
  Codecs freeze() {
    return new Codecs(Map.copyOf(queues), Map.copyOf(caches));
  }

  /** The registration of queue {@code name}, or raw {@code byte[]}. */
  QueueCodec queue(String name) {
    return queues.getOrDefault(name, RAW_QUEUE);
  }

  /** The registration of cache {@code name}, or {@code String} to {@code byte[]}. */
  CacheCodecs cache(String name) {
    return caches.getOrDefault(name, RAW_CACHE);
  }

  /**
   * Adds a problem for every registration naming no configured queue or cache: a codec registered
   * for a misspelt name would otherwise silently never apply.
   */
  void check(Config resolved, List<ConfigProblem> problems) {
    check(resolved, Subsystems.QUEUES, "queueCodec", queues.keySet(), problems);
    check(resolved, Subsystems.CACHES, "cacheCodecs", caches.keySet(), problems);
  }

  private static void check(
      Config resolved,
      String section,
      String method,
      Set<String> registered,
      List<ConfigProblem> problems) {
    Set<String> configured = Subsystems.namesUnder(resolved, section);
    for (String name : new TreeSet<>(registered)) {
      if (!configured.contains(name)) {
        problems.add(
            new ConfigProblem(
                section + "." + name,
                "not set (codec registered with Cairn.Builder." + method + ")",
                "an entry for the name a codec is registered for; configured: " + configured,
                "nothing"));
      }
    }
  }
}
