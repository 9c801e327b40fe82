package io.cairn.persistence;

import java.util.Collections;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What {@link StorageBackend#reseal} did, per store: how many records holding sealed data it
 * examined (values, log records, snapshot chunks; never bookkeeping such as a log's position or a
 * snapshot's manifest, which hold nothing sealed) and how many it re-sealed with the primary key. A
 * run that finds everything under the primary already re-seals nothing.
 *
 * @param backend the backend instance name
 * @param stores counts per store, sorted; stores without sealed records may be absent
 */
public record ResealReport(String backend, SortedMap<StoreId, Counts> stores) {
  /** Counts of one store. */
  public record Counts(long checked, long resealed) {
    public Counts {
      if (checked < 0 || resealed < 0 || resealed > checked) {
        throw new IllegalArgumentException("bad counts: " + checked + " / " + resealed);
      }
    }
  }

  public ResealReport {
    Objects.requireNonNull(backend, "backend");
    stores = Collections.unmodifiableSortedMap(new TreeMap<>(stores));
  }

  /** Records checked in all stores. */
  public long checked() {
    return stores.values().stream().mapToLong(Counts::checked).sum();
  }

  /** Records re-sealed in all stores. */
  public long resealed() {
    return stores.values().stream().mapToLong(Counts::resealed).sum();
  }

  @Override
  public String toString() {
    return "backend '"
        + backend
        + "': "
        + resealed()
        + " of "
        + checked()
        + " sealed records re-encrypted in "
        + stores.size()
        + " stores";
  }
}
