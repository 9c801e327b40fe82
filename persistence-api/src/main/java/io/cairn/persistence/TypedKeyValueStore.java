package io.cairn.persistence;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A typed view over a {@link KeyValueStore}: keys and values pass through {@link Codec}s. Same
 * contract, thread safety and errors as the store underneath.
 */
public final class TypedKeyValueStore<K, V> {
  private final KeyValueStore store;
  private final Codec<K> keys;
  private final Codec<V> values;

  public TypedKeyValueStore(KeyValueStore store, Codec<K> keys, Codec<V> values) {
    this.store = Objects.requireNonNull(store, "store");
    this.keys = Objects.requireNonNull(keys, "keys");
    this.values = Objects.requireNonNull(values, "values");
  }

  /** A value with the version it was read at. */
  public record Versioned<V>(V value, long version) {}

  public KeyValueStore raw() {
    return store;
  }

  public Optional<V> get(K key) {
    return getVersioned(key).map(Versioned::value);
  }

  public Optional<Versioned<V>> getVersioned(K key) {
    return store
        .getEntry(keys.encode(key))
        .map(e -> new Versioned<>(values.decode(e.value()), e.version()));
  }

  public long put(K key, V value) {
    return store.put(keys.encode(key), values.encode(value));
  }

  public long put(K key, V value, Duration ttl) {
    return store.put(keys.encode(key), values.encode(value), ttl);
  }

  public long compareAndSet(K key, long expectedVersion, V value) {
    return store.compareAndSet(keys.encode(key), expectedVersion, values.encode(value), null);
  }

  public boolean delete(K key) {
    return store.delete(keys.encode(key));
  }
}
