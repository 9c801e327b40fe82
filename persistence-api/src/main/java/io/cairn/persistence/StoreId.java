package io.cairn.persistence;

import java.util.Objects;

/** Names one store of a backend: its kind and its name (namespace, log name or snapshot set). */
public record StoreId(StoreKind kind, String name) implements Comparable<StoreId> {
  public StoreId {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(name, "name");
  }

  @Override
  public int compareTo(StoreId o) {
    int c = kind.compareTo(o.kind);
    return c != 0 ? c : name.compareTo(o.name);
  }

  @Override
  public String toString() {
    return kind.shortName() + ":" + name;
  }
}
