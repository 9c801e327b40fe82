package io.cairn.cli;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.Entry;
import io.cairn.persistence.Importer;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Import of a {@link PortableStream} and migration between backends, through the target's {@link
 * Importer}. The design, chosen for safety:
 *
 * <ol>
 *   <li><b>Validate first.</b> {@code import} reads the whole stream once and checks every frame,
 *       checksum and the trailer before writing anything: a damaged or truncated stream leaves the
 *       target untouched. {@code migrate} reads its source through the store API (whose own
 *       checksums are checked on read), so it has nothing to pre-validate.
 *   <li><b>Only empty targets.</b> Every store the stream or source holds must be empty on the
 *       target (no entry, no log offset ever used, no snapshot); the first that is not is named and
 *       nothing is written. The Importer checks it again at its first call on each store.
 *   <li><b>Then write, then verify.</b> Items go to one Importer session in batches (each batch
 *       atomic on the target); {@code finish()} makes them durable; then the target is read back
 *       through its store API and every store's count and CRC-32C (the trailer's figures) are
 *       compared with the source's. Should a write fail part way (disk full, the file changed
 *       between the two reads), the exception says how much was written and that the target must be
 *       discarded: the Importer cannot take a session back (see its contract), so the operator
 *       deletes the target backend's data and runs the command again. The source is never written.
 * </ol>
 */
final class Transfer {
  private static final int BATCH_ITEMS = 1000;
  private static final long BATCH_BYTES = 4L * 1024 * 1024;

  private Transfer() {}

  /** One store's figures on both sides. */
  record Check(StoreId store, long sourceItems, long sourceCrc, long targetItems, long targetCrc) {
    boolean ok() {
      return sourceItems == targetItems && sourceCrc == targetCrc;
    }
  }

  /** What an import or migration did. */
  record Result(
      List<Check> checks,
      long entries,
      long records,
      long snapshots,
      long snapshotBytes,
      long durationMillis,
      List<String> notes) {
    boolean verified() {
      return checks.stream().allMatch(Check::ok);
    }
  }

  /** The target's Importer, or a {@link ConfigurationException} naming the backend. */
  static Importer importer(StorageBackend target) {
    return target
        .extension(Importer.class)
        .orElseThrow(
            () ->
                new ConfigurationException(
                    target.type()
                        + " backend '"
                        + target.name()
                        + "' cannot be the target of an import or migration: it offers no exact"
                        + " import (StorageBackend.extension(Importer.class) is empty for it)."
                        + " Choose a target backend of a type that does; nothing was written."));
  }

  /**
   * Imports the stream in {@code file} into {@code target}: validates the whole stream, checks the
   * target's stores are empty, writes, reads back and compares. See the class comment.
   */
  static Result importFile(Path file, StorageBackend target, Progress progress) throws IOException {
    long started = System.nanoTime();
    Importer importer = importer(target);
    String name = file.toString();
    PortableStream.Header header;
    try (InputStream in = open(file)) {
      header = PortableStream.read(in, name, validating(progress));
    }
    requireEmpty(target, header.stores());
    ImportSink sink = new ImportSink(target, importer, progress);
    List<PortableStream.Summary> source;
    try (InputStream in = open(file)) {
      java.util.concurrent.atomic.AtomicReference<List<PortableStream.Summary>> held =
          new java.util.concurrent.atomic.AtomicReference<>();
      PortableStream.read(
          in,
          name,
          new Tee(sink) {
            @Override
            public void end(List<PortableStream.Summary> summaries) {
              held.set(summaries);
            }
          });
      source = held.get();
      sink.finish();
    } catch (RuntimeException | IOException e) {
      throw sink.failed(e);
    }
    return sink.result(source, PortableStream.walk(target, PortableStream.NONE, progress), started);
  }

  /** Copies every store of {@code from} into {@code to} and verifies it store by store. */
  static Result migrate(StorageBackend from, StorageBackend to, Progress progress)
      throws IOException {
    long started = System.nanoTime();
    Importer importer = importer(to);
    requireEmpty(to, new ArrayList<>(from.stores()));
    QueueCarryCheck.require(from, java.util.Optional.of(to));
    ImportSink sink = new ImportSink(to, importer, progress);
    List<PortableStream.Summary> source;
    try {
      source = PortableStream.walk(from, sink, progress);
      sink.finish();
    } catch (RuntimeException | IOException e) {
      throw sink.failed(e);
    }
    return sink.result(source, PortableStream.walk(to, PortableStream.NONE, progress), started);
  }

  private static InputStream open(Path file) throws IOException {
    return new BufferedInputStream(
        Files.newInputStream(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS), 1 << 16);
  }

  private static PortableStream.Sink validating(Progress progress) {
    return new PortableStream.Sink() {
      long items;

      @Override
      public void entry(String namespace, Entry entry) {
        tick();
      }

      @Override
      public void record(String log, LogRecord record) {
        tick();
      }

      private void tick() {
        if (++items % 10_000 == 0) {
          progress.report("validate stream", items, -1);
        }
      }
    };
  }

  /**
   * Refuses before any write if one of {@code stores} holds anything on {@code target}, or cannot
   * be listed there (a hashed-key namespace).
   */
  static void requireEmpty(StorageBackend target, List<StoreId> stores) {
    for (StoreId id : stores) {
      boolean empty;
      switch (id.kind()) {
        case KEY_VALUE -> {
          var kv = target.keyValue(id.name());
          try (CloseableIterator<Entry> it = kv.scan(null, null)) {
            empty = !it.hasNext() && kv.approximateCount() == 0;
          } catch (UnsupportedOperationException e) {
            throw new ConfigurationException(
                "Cannot import into kv:"
                    + id.name()
                    + " of backend '"
                    + target.name()
                    + "': "
                    + e.getMessage()
                    + " Import and migrate refuse such namespaces (the Importer would store the keys"
                    + " unhashed); nothing was written.");
          }
        }
        case LOG -> empty = target.log(id.name()).nextOffset() == 0;
        default -> empty = target.snapshots(id.name()).list().isEmpty();
      }
      if (!empty) {
        throw new IllegalStateException(
            "Cannot import into "
                + target.type()
                + " backend '"
                + target.name()
                + "': its store "
                + PortableStream.show(id)
                + " is not empty. Import and migrate write only into empty stores (a fresh"
                + " backend); nothing was written.");
      }
    }
  }

  /** Passes everything to a delegate; for overriding one method. */
  private static class Tee implements PortableStream.Sink {
    private final PortableStream.Sink d;

    Tee(PortableStream.Sink d) {
      this.d = d;
    }

    @Override
    public void header(PortableStream.Header header) {
      d.header(header);
    }

    @Override
    public void beginStore(StoreId store, long firstOffset, long nextOffset) {
      d.beginStore(store, firstOffset, nextOffset);
    }

    @Override
    public void entry(String namespace, Entry entry) {
      d.entry(namespace, entry);
    }

    @Override
    public void record(String log, LogRecord record) {
      d.record(log, record);
    }

    @Override
    public void snapshot(
        String set, long version, long createdAt, long size, long crc, InputStream data)
        throws IOException {
      d.snapshot(set, version, createdAt, size, crc, data);
    }

    @Override
    public void endStore(StoreId store) {
      d.endStore(store);
    }

    @Override
    public void end(List<PortableStream.Summary> summaries) {
      d.end(summaries);
    }
  }

  /** Writes what it is given through one Importer session, in atomic batches. */
  private static final class ImportSink implements PortableStream.Sink {
    private final StorageBackend target;
    private final Importer.Session session;
    private final Progress progress;
    private final List<Entry> entries = new ArrayList<>();
    private final List<LogRecord> records = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private StoreId store;
    private long batchBytes;
    private long storeItems;
    private long storeTotal;
    private long written;
    private long entryCount;
    private long recordCount;
    private long snapshotCount;
    private long snapshotBytes;

    ImportSink(StorageBackend target, Importer importer, Progress progress) {
      this.target = target;
      this.session = importer.begin();
      this.progress = progress;
    }

    @Override
    public void beginStore(StoreId id, long firstOffset, long nextOffset) {
      store = id;
      storeItems = 0;
      storeTotal = id.kind() == StoreKind.LOG ? nextOffset - firstOffset : -1;
      if (id.kind() == StoreKind.LOG && firstOffset == nextOffset && nextOffset > 0) {
        // no record to carry its offsets: a drained queue's log, a fully truncated journal
        session.startLog(id.name(), nextOffset);
      }
    }

    @Override
    public void entry(String namespace, Entry entry) {
      entries.add(entry);
      batchBytes += entry.key().length + entry.value().length + 16;
      entryCount++;
      item();
    }

    @Override
    public void record(String log, LogRecord record) {
      records.add(record);
      batchBytes += record.payload().length + 16;
      recordCount++;
      item();
    }

    @Override
    public void snapshot(
        String set, long version, long createdAt, long size, long crc, InputStream data) {
      session.saveSnapshot(set, version, createdAt, data);
      written++;
      snapshotCount++;
      snapshotBytes += size;
      storeItems++;
      progress.report("import " + PortableStream.show(store), storeItems, -1);
    }

    private void item() {
      storeItems++;
      if (entries.size() + records.size() >= BATCH_ITEMS || batchBytes >= BATCH_BYTES) {
        flush();
      }
    }

    private void flush() {
      if (!entries.isEmpty()) {
        session.putEntries(store.name(), List.copyOf(entries));
        written += entries.size();
        entries.clear();
      }
      if (!records.isEmpty()) {
        session.appendRecords(store.name(), List.copyOf(records));
        written += records.size();
        records.clear();
      }
      batchBytes = 0;
      progress.report("import " + PortableStream.show(store), storeItems, storeTotal);
    }

    @Override
    public void endStore(StoreId id) {
      flush();
    }

    void finish() {
      session.finish();
    }

    /** The exception to throw when the import failed part way: how much was written, what to do. */
    RuntimeException failed(Exception e) {
      session.close();
      if (written == 0 && e instanceof RuntimeException unchanged) {
        return unchanged; // nothing written: the cause says it all (its exit code too)
      }
      String msg =
          (written == 0
                  ? "Import into "
                      + target.type()
                      + " backend '"
                      + target.name()
                      + "' failed"
                      + " before anything was written"
                  : "Import into "
                      + target.type()
                      + " backend '"
                      + target.name()
                      + "' failed after "
                      + written
                      + " item(s) were written"
                      + (store == null ? "" : " (at " + PortableStream.show(store) + ")")
                      + ": the target now holds part of the data. Discard it (delete that"
                      + " backend's data, or use a fresh backend) and run the command again; the"
                      + " source is unchanged")
              + ". Cause: "
              + e.getMessage();
      if (e instanceof PortableStream.Damaged) {
        return new PortableStream.Damaged(msg);
      }
      return new PersistenceException(msg, e);
    }

    Result result(
        List<PortableStream.Summary> source, List<PortableStream.Summary> target, long started) {
      Map<StoreId, PortableStream.Summary> after = new HashMap<>();
      for (PortableStream.Summary s : target) {
        after.put(s.store(), s);
      }
      List<Check> checks = new ArrayList<>();
      for (PortableStream.Summary s : source) {
        PortableStream.Summary t = after.get(s.store());
        checks.add(
            new Check(
                s.store(),
                s.items(),
                s.checksum(),
                t == null ? 0 : t.items(),
                t == null ? 0 : t.checksum()));
      }
      return new Result(
          checks,
          entryCount,
          recordCount,
          snapshotCount,
          snapshotBytes,
          (System.nanoTime() - started) / 1_000_000,
          notes);
    }
  }
}
