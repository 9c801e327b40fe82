package io.cairn.persistence.spi;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StoreId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/** TreeMaps under one monitor: the smallest engine, for tests of the base. */
class TreeMapEngine implements StorageEngine {
  private final Map<StoreId, TreeMap<byte[], byte[]>> stores = new TreeMap<>();

  /** When set, every write fails, as an engine opened read-only. */
  volatile boolean readOnly;

  private TreeMap<byte[], byte[]> map(StoreId id) {
    return stores.computeIfAbsent(id, i -> new TreeMap<>(Bytes.UNSIGNED));
  }

  @Override
  public synchronized byte[] get(StoreId store, byte[] key) {
    byte[] v = map(store).get(key);
    return v == null ? null : v.clone();
  }

  @Override
  public synchronized List<Record> range(StoreId store, byte[] from, byte[] to, int limit) {
    List<Record> out = new ArrayList<>();
    for (Map.Entry<byte[], byte[]> e :
        (to == null ? map(store).tailMap(from, true) : map(store).subMap(from, true, to, false))
            .entrySet()) {
      if (out.size() == limit) {
        break;
      }
      out.add(new Record(e.getKey().clone(), e.getValue().clone()));
    }
    return out;
  }

  @Override
  public synchronized void write(List<Write> batch, Durability durability) {
    if (readOnly) {
      throw new IllegalStateException("this engine was opened read-only");
    }
    for (Write w : batch) {
      if (w.isDelete()) {
        map(w.store()).remove(w.key());
      } else {
        map(w.store()).put(w.key().clone(), w.value().clone());
      }
    }
  }

  @Override
  public synchronized SortedSet<StoreId> stores() {
    TreeSet<StoreId> out = new TreeSet<>();
    stores.forEach(
        (id, m) -> {
          if (!m.isEmpty()) {
            out.add(id);
          }
        });
    return out;
  }

  @Override
  public void close() {}
}
