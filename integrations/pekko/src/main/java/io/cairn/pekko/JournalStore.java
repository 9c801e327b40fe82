package io.cairn.pekko;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.Transaction;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The journal's storage over one key-value namespace of a Cairn backend, without Pekko actors (used
 * by {@link CairnJournal} and {@link CairnReadJournal}). The layout is described at the top of
 * {@link CairnJournal}. Thread-safe: every method is one or more backend transactions or scans.
 */
final class JournalStore {
  static final byte EVENT = 'E';
  static final byte HIGHEST = 'H';
  static final int FORMAT = 1;

  /** Keys deleted per transaction, so a large delete never becomes one huge transaction. */
  static final int DELETE_PAGE = 1000;

  /**
   * One stored event.
   *
   * @param meta serialized metadata, or {@code null} for none
   */
  record Event(
      String persistenceId,
      long seqNr,
      long timestamp,
      String writerUuid,
      String adapterManifest,
      List<String> tags,
      Serde.Serialized meta,
      Serde.Serialized payload) {
    Event {
      Objects.requireNonNull(persistenceId, "persistenceId");
      Objects.requireNonNull(writerUuid, "writerUuid");
      Objects.requireNonNull(adapterManifest, "adapterManifest");
      tags = List.copyOf(tags);
      Objects.requireNonNull(payload, "payload");
      if (seqNr <= 0) {
        throw new IllegalArgumentException(
            "sequence number must be positive, got " + seqNr + " for " + persistenceId);
      }
    }
  }

  private final StorageBackend backend;
  private final String namespace;
  private final KeyValueStore kv;

  JournalStore(StorageBackend backend, String namespace) {
    this.backend = backend;
    this.namespace = namespace;
    this.kv = backend.keyValue(namespace);
  }

  String describe() {
    return backend.type() + " backend '" + backend.name() + "', namespace '" + namespace + "'";
  }

  private String where(String pid, long seqNr) {
    return describe() + ", persistenceId '" + pid + "', sequence number " + seqNr;
  }

  static byte[] encode(Event e) {
    Records.Writer w = new Records.Writer().u8(FORMAT);
    w.i64(e.timestamp()).str(e.writerUuid()).str(e.adapterManifest()).i32(e.tags().size());
    for (String t : e.tags()) {
      w.str(t);
    }
    if (e.meta() == null) {
      w.u8(0);
    } else {
      w.u8(1);
      Serde.write(w, e.meta());
    }
    Serde.write(w, e.payload());
    return w.toByteArray();
  }

  Event decode(String pid, long seqNr, byte[] value) {
    Records.Reader r = new Records.Reader(value, where(pid, seqNr));
    r.format(FORMAT);
    long ts = r.i64();
    String writer = r.str();
    String manifest = r.str();
    int n = r.i32();
    if (n < 0 || n > value.length) {
      throw new StoreCorruptedException(where(pid, seqNr) + ": impossible tag count " + n);
    }
    List<String> tags = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      tags.add(r.str());
    }
    int hasMeta = r.u8();
    if (hasMeta > 1) {
      throw new StoreCorruptedException(where(pid, seqNr) + ": bad metadata flag " + hasMeta);
    }
    Serde.Serialized meta = hasMeta == 1 ? Serde.read(r) : null;
    Serde.Serialized payload = Serde.read(r);
    r.end();
    return new Event(pid, seqNr, ts, writer, manifest, tags, meta, payload);
  }

  /**
   * Writes every event of every batch in one transaction: all or nothing. Per persistence id, the
   * sequence numbers must ascend and exceed the highest one ever written (deleted events count):
   * Pekko never writes a number twice, so a repeat means two writers for one persistence id, and
   * overwriting would lose an acknowledged event.
   *
   * @throws IllegalStateException on a repeated or descending sequence number; nothing is written
   */
  void write(List<List<Event>> batches) {
    if (batches.isEmpty()) {
      return;
    }
    backend.inTransaction(
        tx -> {
          Transaction.KeyValueWriter w = tx.keyValue(namespace);
          Map<String, Long> highest = new HashMap<>();
          for (List<Event> batch : batches) {
            for (Event e : batch) {
              byte[] pid = Keys.pidBytes(e.persistenceId());
              long high =
                  highest.computeIfAbsent(
                      e.persistenceId(), p -> readHighest(w.getEntry(Keys.idKey(HIGHEST, pid)), p));
              if (e.seqNr() <= high) {
                throw new IllegalStateException(
                    where(e.persistenceId(), e.seqNr())
                        + ": the sequence number is not above the highest already written ("
                        + high
                        + "). Two actors with the same persistenceId are writing, or events"
                        + " arrived out of order. Nothing of this write was stored.");
              }
              w.put(Keys.seqKey(Keys.prefix(EVENT, pid), e.seqNr()), encode(e));
              highest.put(e.persistenceId(), e.seqNr());
            }
          }
          for (Map.Entry<String, Long> h : highest.entrySet()) {
            byte[] pid = Keys.pidBytes(h.getKey());
            w.put(Keys.idKey(HIGHEST, pid), ByteBuffer.allocate(8).putLong(h.getValue()).array());
          }
          return null;
        });
  }

  private long readHighest(java.util.Optional<Entry> entry, String pid) {
    if (entry.isEmpty()) {
      return 0;
    }
    byte[] v = entry.get().value();
    if (v.length != 8) {
      throw new StoreCorruptedException(
          describe()
              + ", persistenceId '"
              + pid
              + "': the highest-sequence-number entry has "
              + v.length
              + " bytes instead of 8; it is damaged.");
    }
    return ByteBuffer.wrap(v).getLong();
  }

  /** The highest sequence number ever written for {@code pid} (kept when events are deleted). */
  long highest(String pid) {
    byte[] key = Keys.idKey(HIGHEST, Keys.pidBytes(pid));
    return readHighest(kv.getEntry(key), pid);
  }

  /**
   * Calls {@code each} for the stored events of {@code pid} with {@code from <= seqNr <= to}, in
   * order, at most {@code max} of them. Returns how many were delivered.
   */
  long replay(String pid, long from, long to, long max, Consumer<Event> each) {
    if (max <= 0 || from > to) {
      return 0;
    }
    byte[] prefix = Keys.prefix(EVENT, Keys.pidBytes(pid));
    long n = 0;
    try (CloseableIterator<Entry> it =
        kv.scan(Keys.seqKey(prefix, Math.max(0, from)), Keys.upperBound(prefix, to))) {
      while (n < max && it.hasNext()) {
        Entry e = it.next();
        each.accept(decode(pid, Keys.seqOf(e.key()), e.value()));
        n++;
      }
    }
    return n;
  }

  /** Up to {@code limit} events of {@code pid} with {@code from <= seqNr <= to}, in order. */
  List<Event> read(String pid, long from, long to, int limit) {
    List<Event> out = new ArrayList<>();
    replay(pid, from, to, limit, out::add);
    return out;
  }

  /**
   * Deletes the events of {@code pid} with sequence number {@code <= to}, {@link #DELETE_PAGE} per
   * transaction. The highest sequence number stays. Interrupted by a crash, the lowest events are
   * gone and the rest remain, so replay stays gap-free from wherever it starts; repeating the
   * delete finishes it.
   */
  void deleteTo(String pid, long to) {
    byte[] prefix = Keys.prefix(EVENT, Keys.pidBytes(pid));
    byte[] upper = Keys.upperBound(prefix, to);
    byte[] from = Keys.seqKey(prefix, 0);
    while (true) {
      List<byte[]> keys = new ArrayList<>(DELETE_PAGE);
      try (CloseableIterator<Entry> it = kv.scan(from, upper)) {
        while (keys.size() < DELETE_PAGE && it.hasNext()) {
          keys.add(it.next().key());
        }
      }
      if (keys.isEmpty()) {
        return;
      }
      backend.inTransaction(
          tx -> {
            Transaction.KeyValueWriter w = tx.keyValue(namespace);
            for (byte[] k : keys) {
              w.delete(k);
            }
            return null;
          });
      from = Keys.after(keys.get(keys.size() - 1));
    }
  }

  /**
   * Up to {@code limit} persistence ids that have ever been written (also those whose events were
   * all deleted), in UTF-8 byte order, starting after {@code afterExclusive} ({@code null} for the
   * first).
   */
  List<String> persistenceIds(String afterExclusive, int limit) {
    byte[] prefix = {HIGHEST};
    byte[] from =
        afterExclusive == null
            ? prefix
            : Keys.after(Keys.idKey(HIGHEST, Keys.pidBytes(afterExclusive)));
    List<String> out = new ArrayList<>();
    try (CloseableIterator<Entry> it =
        kv.scan(from, io.cairn.persistence.spi.Bytes.prefixUpperBound(prefix))) {
      while (out.size() < limit && it.hasNext()) {
        out.add(Keys.idOf(it.next().key()));
      }
    }
    return out;
  }
}
