package io.cairn.cli;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * The portable export stream of {@code cairn export}, {@code import} and {@code migrate}: every
 * store of one backend, exactly (versions, expiry instants, offsets, append times, snapshot
 * versions and creation times), in a form any backend type can import. This class owns the format;
 * everything about it is written here.
 *
 * <h2>Format, version 1</h2>
 *
 * All integers are big-endian (Java {@link DataOutputStream}); strings are {@code writeUTF}
 * (modified UTF-8 with a u16 length).
 *
 * <pre>
 * stream   = magic version frame* EOF
 * magic    = the 8 ASCII bytes "CAIRNEXP"
 * version  = u32, 1 for this format (outside any frame, so a reader sees it before parsing frames)
 * frame    = type:u8 length:u32 body[length] crc:u32
 *            crc = CRC-32C (as in persistence-api spi Checksums) of type, length and body
 * frames, in this order:
 *   HEADER   'H'  sourceType:utf sourceName:utf createdAtMillis:i64 storeCount:u32
 *                 (kind:u8 name:utf)*storeCount          every store the stream holds, in order
 *   then for every store of the header, in header order:
 *   STORE    'S'  kind:u8 name:utf firstOffset:i64 nextOffset:i64   (offsets: logs; 0 otherwise)
 *     key-value: ENTRY 'E'  keyLen:u32 key valueLen:u32 value version:i64 expiresAtMillis:i64
 *                (every entry live at export, in key order; expiresAtMillis 0 = never)
 *     log:       RECORD 'R' offset:i64 appendedAtMillis:i64 payloadLen:u32 payload
 *                (offsets contiguous from firstOffset to nextOffset - 1; appendedAtMillis -1 =
 *                not recorded, as LogRecord.NOT_RECORDED)
 *     snapshots: SNAPSHOT 'P' version:i64 createdAtMillis:i64 size:i64 crc32c:i64,
 *                then CHUNK 'C' frames whose bodies are the raw snapshot bytes (each 1..65536
 *                bytes, adding up to size; their CRC-32C over all of them equals crc32c: the
 *                snapshot's own checksum as its backend recorded it), per snapshot, ascending
 *   TRAILER  'T'  storeCount:u32 (kind:u8 name:utf items:i64 checksum:i64)*storeCount
 *                 items = entries, records or snapshots of the store; checksum = CRC-32C over the
 *                 bodies of the store's ENTRY / RECORD / SNAPSHOT and CHUNK frames, in order
 * </pre>
 *
 * <h2>What reading checks</h2>
 *
 * {@link #read} checks everything before it hands an item on, and throws {@link Damaged} (a {@link
 * StoreCorruptedException}: exit code 1) naming the stream, the byte offset, the store and the item
 * index: a wrong magic ("not a Cairn export stream"); a version above {@value #VERSION} ("written
 * by a newer Cairn: upgrade"); a frame whose CRC-32C does not match; a frame length past {@link
 * #MAX_FRAME}; frames out of order or of the wrong kind for their store; a log's offsets not
 * contiguous from its first to its next offset; a snapshot's chunks not adding up to its size or
 * checksum; the stream ending before the trailer (truncation) or going on after it; a trailer whose
 * stores, counts or checksums differ from what the stream held. A truncated stream therefore never
 * reads as a shorter valid one: only a complete trailer ends it.
 *
 * <p>Every later format version must still read version 1: the fixture {@code
 * cli/src/test/resources/portable-stream/v1.cairnexp} is imported by a test, byte for byte.
 *
 * <h2>What it does not cover</h2>
 *
 * Entries already expired at export are not exported (they are invisible through the store API); a
 * log truncated to empty is exported with its offsets and imported empty at the same offset ({@code
 * Importer.Session.startLog}). Encrypted backends are exported in clear, through the store API, and
 * import seals with the target's key: protect the stream file like the data. Namespaces listed in
 * {@code encryption.hashed-key-namespaces} cannot be listed (their keys are keyed hashes), so
 * export refuses them, naming the namespace. The stream has no secrecy and no authenticity: CRC-32C
 * detects damage, not a deliberate edit.
 */
final class PortableStream {
  static final byte[] MAGIC = "CAIRNEXP".getBytes(StandardCharsets.US_ASCII);
  static final int VERSION = 1;
  static final int CHUNK_BYTES = 64 * 1024;

  /** Largest frame body: an entry with the largest key and value, plus its fields. */
  static final int MAX_FRAME = KeyValueStore.MAX_VALUE_BYTES + KeyValueStore.MAX_KEY_BYTES + 64;

  static final int HEADER = 'H';
  static final int STORE = 'S';
  static final int ENTRY = 'E';
  static final int RECORD = 'R';
  static final int SNAPSHOT = 'P';
  static final int CHUNK = 'C';
  static final int TRAILER = 'T';

  private static final int LOG_PAGE = 1000;

  private PortableStream() {}

  /** What the HEADER frame says. */
  record Header(String sourceType, String sourceName, long createdAtMillis, List<StoreId> stores) {}

  /** One store's count and checksum, as in the TRAILER frame. */
  record Summary(StoreId store, long items, long checksum) {}

  /** A stream that fails a check; the message names where. Exit code 1. */
  static final class Damaged extends StoreCorruptedException {
    Damaged(String message) {
      super(message);
    }
  }

  /**
   * Receives the contents of a backend or a stream, in stream order. Methods may throw unchecked
   * exceptions to stop. A snapshot's {@code data} need not be read (it is drained afterwards) and
   * must not be closed.
   */
  interface Sink {
    default void header(Header header) {}

    default void beginStore(StoreId store, long firstOffset, long nextOffset) {}

    default void entry(String namespace, Entry entry) {}

    default void record(String log, LogRecord record) {}

    default void snapshot(
        String set, long version, long createdAtMillis, long size, long crc32c, InputStream data)
        throws IOException {}

    default void endStore(StoreId store) {}

    default void end(List<Summary> summaries) {}
  }

  /** A sink that takes nothing: for validating a stream or digesting a backend. */
  static final Sink NONE = new Sink() {};

  // ---------------------------------------------------------------- item encodings (digests too)

  private static byte[] entryBody(Entry e) {
    Body b = new Body();
    b.bytes(e.key()).bytes(e.value()).i64(e.version()).i64(e.expiresAtMillis());
    return b.done();
  }

  private static byte[] recordBody(LogRecord r) {
    Body b = new Body();
    b.i64(r.offset()).i64(r.appendedAtMillis()).bytes(r.payload());
    return b.done();
  }

  private static byte[] snapshotBody(long version, long createdAt, long size, long crc) {
    return new Body().i64(version).i64(createdAt).i64(size).i64(crc).done();
  }

  private static byte[] storeBody(StoreId id, long first, long next) {
    return new Body().u8(id.kind().ordinal()).utf(id.name()).i64(first).i64(next).done();
  }

  /** A frame body under construction. */
  private static final class Body {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private final DataOutputStream out = new DataOutputStream(buf);

    Body u8(int v) {
      return io(() -> out.writeByte(v));
    }

    Body i32(int v) {
      return io(() -> out.writeInt(v));
    }

    Body i64(long v) {
      return io(() -> out.writeLong(v));
    }

    Body utf(String s) {
      return io(() -> out.writeUTF(s));
    }

    Body bytes(byte[] v) {
      return io(
          () -> {
            out.writeInt(v.length);
            out.write(v);
          });
    }

    byte[] done() {
      return buf.toByteArray();
    }

    private interface IoAction {
      void run() throws IOException;
    }

    private Body io(IoAction a) {
      try {
        a.run();
      } catch (IOException e) {
        throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
      }
      return this;
    }
  }

  /** Per-store item counts and CRC-32C over item bodies, in order (the TRAILER's figures). */
  static final class Digest {
    private final Map<StoreId, long[]> counts = new LinkedHashMap<>();
    private final Map<StoreId, CRC32C> crcs = new LinkedHashMap<>();
    private StoreId current;

    void begin(StoreId id) {
      current = id;
      counts.put(id, new long[1]);
      crcs.put(id, new CRC32C());
    }

    void item(byte[] body) {
      counts.get(current)[0]++;
      crcs.get(current).update(body, 0, body.length);
    }

    void bytes(byte[] b, int off, int len) {
      crcs.get(current).update(b, off, len);
    }

    long items() {
      return counts.get(current)[0];
    }

    List<Summary> summaries() {
      List<Summary> out = new ArrayList<>();
      counts.forEach((id, n) -> out.add(new Summary(id, n[0], crcs.get(id).getValue())));
      return out;
    }
  }

  // ---------------------------------------------------------------- walking a backend

  /**
   * Reads every store of {@code backend} through its store API and hands it to {@code sink}, in
   * stream order; returns each store's count and checksum (what a stream of it would carry in its
   * trailer). Before the first item, every key-value namespace is checked to be listable: a
   * namespace in {@code encryption.hashed-key-namespaces} is refused with a {@link
   * ConfigurationException} naming it, before {@code sink} hears anything.
   */
  static List<Summary> walk(StorageBackend backend, Sink sink, Progress progress)
      throws IOException {
    return walk(backend, sink, progress, System.currentTimeMillis());
  }

  /** {@link #walk} with the header's creation time given (for reproducible streams in tests). */
  static List<Summary> walk(
      StorageBackend backend, Sink sink, Progress progress, long createdAtMillis)
      throws IOException {
    List<StoreId> stores = new ArrayList<>(backend.stores());
    for (StoreId id : stores) {
      if (id.kind() == StoreKind.KEY_VALUE) {
        try (CloseableIterator<Entry> it = backend.keyValue(id.name()).scan(null, null)) {
          it.hasNext();
        } catch (UnsupportedOperationException e) {
          throw new ConfigurationException(
              "Cannot copy kv:"
                  + id.name()
                  + " of backend '"
                  + backend.name()
                  + "' exactly: "
                  + e.getMessage()
                  + " Export, import and migrate refuse such namespaces; copy them in the"
                  + " application (get each key you know and put it), or remove them from the"
                  + " backend.");
        }
      }
    }
    sink.header(new Header(backend.type(), backend.name(), createdAtMillis, stores));
    Digest digest = new Digest();
    for (StoreId id : stores) {
      String phase = id.kind().shortName() + ":" + id.name();
      switch (id.kind()) {
        case KEY_VALUE -> {
          KeyValueStore kv = backend.keyValue(id.name());
          long total = kv.approximateCount();
          sink.beginStore(id, 0, 0);
          digest.begin(id);
          try (CloseableIterator<Entry> it = kv.scan(null, null)) {
            while (it.hasNext()) {
              Entry e = it.next();
              digest.item(entryBody(e));
              sink.entry(id.name(), e);
              tick(progress, phase, digest.items(), total);
            }
          }
        }
        case LOG -> {
          LogStore log = backend.log(id.name());
          long first = log.firstOffset();
          long next = log.nextOffset();
          sink.beginStore(id, first, next);
          digest.begin(id);
          long at = first;
          while (at < next) {
            List<LogRecord> page = log.read(at, (int) Math.min(LOG_PAGE, next - at));
            if (page.isEmpty() || page.get(0).offset() != at) {
              throw new IllegalStateException(
                  "log:"
                      + id.name()
                      + " of backend '"
                      + backend.name()
                      + "' lost offset "
                      + at
                      + " while it was being read (retention truncated it meanwhile?): run the"
                      + " command again, with retention paused or on a backup");
            }
            for (LogRecord r : page) {
              if (r.offset() >= next) {
                break;
              }
              digest.item(recordBody(r));
              sink.record(id.name(), r);
              at = r.offset() + 1;
            }
            tick(progress, phase, at - first, next - first);
          }
        }
        case SNAPSHOT -> {
          SnapshotStore set = backend.snapshots(id.name());
          sink.beginStore(id, 0, 0);
          digest.begin(id);
          List<SnapshotInfo> infos = set.list();
          for (SnapshotInfo info : infos) {
            digest.item(
                snapshotBody(
                    info.version(), info.createdAtMillis(), info.sizeBytes(), info.crc32c()));
            try (InputStream in = set.load(info.version())) {
              InputStream digesting = digesting(in, digest);
              sink.snapshot(
                  id.name(),
                  info.version(),
                  info.createdAtMillis(),
                  info.sizeBytes(),
                  info.crc32c(),
                  digesting);
              digesting.transferTo(OutputStream.nullOutputStream());
            }
            tick(progress, phase, digest.items(), infos.size());
          }
        }
      }
      sink.endStore(id);
    }
    List<Summary> summaries = digest.summaries();
    sink.end(summaries);
    return summaries;
  }

  private static void tick(Progress progress, String phase, long done, long total) {
    if (done % 1000 == 0 || done == total) {
      progress.report(phase, done, total);
    }
  }

  private static InputStream digesting(InputStream in, Digest digest) {
    return new FilterInputStream(in) {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
          digest.bytes(b, off, n);
        }
        return n;
      }

      @Override
      public void close() {} // the caller closes the underlying stream
    };
  }

  // ---------------------------------------------------------------- writing

  /** A sink that writes the stream to {@code out} (not closed: the caller closes it). */
  static final class Writer implements Sink {
    private final DataOutputStream out;
    private final byte[] chunk = new byte[CHUNK_BYTES];

    Writer(OutputStream out) {
      this.out = new DataOutputStream(out);
    }

    /** Writes magic, version and HEADER: nothing before, so a refused export writes no byte. */
    @Override
    public void header(Header h) {
      try {
        out.write(MAGIC);
        out.writeInt(VERSION);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Body b = new Body();
      b.utf(h.sourceType()).utf(h.sourceName()).i64(h.createdAtMillis()).i32(h.stores().size());
      for (StoreId id : h.stores()) {
        b.u8(id.kind().ordinal()).utf(id.name());
      }
      frame(HEADER, b.done());
    }

    @Override
    public void beginStore(StoreId store, long firstOffset, long nextOffset) {
      frame(STORE, storeBody(store, firstOffset, nextOffset));
    }

    @Override
    public void entry(String namespace, Entry entry) {
      frame(ENTRY, entryBody(entry));
    }

    @Override
    public void record(String log, LogRecord record) {
      frame(RECORD, recordBody(record));
    }

    @Override
    public void snapshot(
        String set, long version, long createdAt, long size, long crc, InputStream data)
        throws IOException {
      frame(SNAPSHOT, snapshotBody(version, createdAt, size, crc));
      long left = size;
      while (left > 0) {
        int n = data.readNBytes(chunk, 0, (int) Math.min(chunk.length, left));
        if (n == 0) {
          throw new StoreCorruptedException(
              "Snapshot " + version + " ended after " + (size - left) + " of " + size + " bytes");
        }
        frame(CHUNK, java.util.Arrays.copyOf(chunk, n));
        left -= n;
      }
    }

    @Override
    public void end(List<Summary> summaries) {
      Body b = new Body().i32(summaries.size());
      for (Summary s : summaries) {
        b.u8(s.store().kind().ordinal()).utf(s.store().name()).i64(s.items()).i64(s.checksum());
      }
      frame(TRAILER, b.done());
      try {
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private void frame(int type, byte[] body) {
      try {
        CRC32C crc = new CRC32C();
        byte[] head = {
          (byte) type,
          (byte) (body.length >>> 24),
          (byte) (body.length >>> 16),
          (byte) (body.length >>> 8),
          (byte) body.length
        };
        crc.update(head);
        crc.update(body);
        out.write(head);
        out.write(body);
        out.writeInt((int) crc.getValue());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /**
   * Writes every store of {@code backend} to {@code out}; returns the trailer's figures. See {@link
   * #walk} for what is refused.
   */
  static List<Summary> export(StorageBackend backend, OutputStream out, Progress progress)
      throws IOException {
    return walk(backend, new Writer(out), progress);
  }

  /** {@link #export} with the header's creation time given (for the test fixture). */
  static List<Summary> export(
      StorageBackend backend, OutputStream out, Progress progress, long createdAtMillis)
      throws IOException {
    return walk(backend, new Writer(out), progress, createdAtMillis);
  }

  // ---------------------------------------------------------------- reading

  /**
   * Reads and checks a whole stream, handing each item to {@code sink} only after its frame passed
   * its checks (a snapshot's bytes are checked as {@code sink} reads them, and at their end). See
   * the class comment for what is checked; {@code name} names the stream in messages.
   *
   * @return the header
   * @throws Damaged naming what is wrong and where
   */
  static Header read(InputStream in, String name, Sink sink) throws IOException {
    return new Reader(in, name, sink).run();
  }

  private static final class Reader {
    private final InputStream in;
    private final String name;
    private final Sink sink;
    private final Digest digest = new Digest();
    private long pos; // byte offset of the next byte to read
    private long frameAt;
    private StoreId store;
    private long item = -1;

    Reader(InputStream in, String name, Sink sink) {
      this.in = in;
      this.name = name;
      this.sink = sink;
    }

    Header run() throws IOException {
      try {
        return frames();
      } catch (EOFException e) {
        // a frame passed its CRC but its fields run past its body: a writer's bug, not damage
        throw damaged("a frame's fields run past its end (" + e.getMessage() + ")");
      }
    }

    private Header frames() throws IOException {
      byte[] magic = new byte[MAGIC.length];
      int n = in.readNBytes(magic, 0, magic.length);
      pos += n;
      if (n < MAGIC.length || !java.util.Arrays.equals(magic, MAGIC)) {
        throw new Damaged(
            name
                + " is not a Cairn export stream: it does not start with the magic 'CAIRNEXP'"
                + " (byte offset 0, "
                + n
                + " byte(s) read). Give a file written by cairn export.");
      }
      byte[] v = readN(4, "the format version");
      int version = new DataInputStream(new ByteArrayInputStream(v)).readInt();
      if (version > VERSION) {
        throw new Damaged(
            name
                + " is Cairn export format version "
                + version
                + ", written by a newer Cairn: upgrade Cairn to import it (this one reads versions"
                + " 1.."
                + VERSION
                + "; byte offset 8)");
      }
      if (version < 1) {
        throw new Damaged(name + " has format version " + version + " at byte offset 8: damaged");
      }
      Frame f = frame();
      expect(f, HEADER, "the HEADER frame");
      DataInputStream d = f.data();
      String type = d.readUTF();
      String source = d.readUTF();
      long created = d.readLong();
      int count = d.readInt();
      if (count < 0) {
        throw damaged("the HEADER frame lists " + count + " stores");
      }
      List<StoreId> stores = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        stores.add(new StoreId(kind(d.readUnsignedByte()), d.readUTF()));
      }
      f.end(d);
      Header header = new Header(type, source, created, List.copyOf(stores));
      sink.header(header);
      for (StoreId id : stores) {
        readStore(id);
      }
      store = null;
      item = -1;
      f = frame();
      expect(f, TRAILER, "the TRAILER frame");
      d = f.data();
      int n2 = d.readInt();
      List<Summary> trailer = new ArrayList<>();
      for (int i = 0; i < Math.max(0, n2); i++) {
        trailer.add(
            new Summary(
                new StoreId(kind(d.readUnsignedByte()), d.readUTF()), d.readLong(), d.readLong()));
      }
      f.end(d);
      List<Summary> held = digest.summaries();
      if (!trailer.equals(held)) {
        throw damaged(
            "the trailer does not match the stream: it lists "
                + describe(trailer)
                + " but the stream held "
                + describe(held));
      }
      if (in.read() >= 0) {
        throw new Damaged(
            name + " goes on after its trailer (byte offset " + pos + "): damaged or appended to");
      }
      sink.end(held);
      return header;
    }

    private void readStore(StoreId id) throws IOException {
      Frame f = frame();
      expect(f, STORE, "the STORE frame of " + show(id));
      DataInputStream d = f.data();
      StoreId got = new StoreId(kind(d.readUnsignedByte()), d.readUTF());
      long first = d.readLong();
      long next = d.readLong();
      f.end(d);
      if (!got.equals(id)) {
        throw damaged(
            "found the STORE frame of " + show(got) + " where the header lists " + show(id));
      }
      if (first < 0 || next < first) {
        throw damaged(show(id) + " has offsets " + first + ".." + next);
      }
      store = id;
      item = 0;
      digest.begin(id);
      sink.beginStore(id, first, next);
      long expectedOffset = first;
      while (true) {
        int type = peek();
        if (type < 0) {
          frameAt = pos;
          throw truncated("where the next frame was expected");
        }
        if (type == STORE || type == TRAILER) {
          break;
        }
        f = frame();
        switch (id.kind()) {
          case KEY_VALUE -> {
            expect(f, ENTRY, "an ENTRY frame");
            d = f.data();
            byte[] key = bytes(d);
            byte[] value = bytes(d);
            long version = d.readLong();
            long expires = d.readLong();
            f.end(d);
            if (key.length == 0 || version < 1 || expires < 0) {
              throw damaged(
                  "an entry has key length 0, version " + version + " or expiry " + expires);
            }
            digest.item(f.body);
            sink.entry(id.name(), new Entry(key, value, version, expires));
          }
          case LOG -> {
            expect(f, RECORD, "a RECORD frame");
            d = f.data();
            long offset = d.readLong();
            long at = d.readLong();
            byte[] payload = bytes(d);
            f.end(d);
            if (offset != expectedOffset || offset >= next || at < -1) {
              throw damaged(
                  "a record has offset "
                      + offset
                      + " (append time "
                      + at
                      + ") where offset "
                      + expectedOffset
                      + " of "
                      + first
                      + ".."
                      + (next - 1)
                      + " was expected");
            }
            expectedOffset++;
            digest.item(f.body);
            sink.record(id.name(), new LogRecord(offset, payload, at));
          }
          case SNAPSHOT -> {
            expect(f, SNAPSHOT, "a SNAPSHOT frame");
            d = f.data();
            long version = d.readLong();
            long created = d.readLong();
            long size = d.readLong();
            long crc = d.readLong();
            f.end(d);
            if (version < 0 || created < 0 || size < 0 || crc < 0 || crc > 0xFFFFFFFFL) {
              throw damaged("a snapshot header has version " + version + ", size " + size);
            }
            digest.item(f.body);
            Chunks chunks = new Chunks(version, size, crc);
            sink.snapshot(id.name(), version, created, size, crc, chunks);
            chunks.transferTo(OutputStream.nullOutputStream());
          }
        }
        item++;
      }
      if (id.kind() == StoreKind.LOG && expectedOffset != next && !(item == 0 && first == next)) {
        throw damaged(
            show(id)
                + " ends at offset "
                + expectedOffset
                + " but its STORE frame says its records run to "
                + (next - 1));
      }
      sink.endStore(id);
    }

    /** The bytes of one snapshot, read from its CHUNK frames as the sink asks for them. */
    private final class Chunks extends InputStream {
      private final long version;
      private final long size;
      private final long crc;
      private final CRC32C seen = new CRC32C();
      private long left;
      private byte[] buf = new byte[0];
      private int at;

      Chunks(long version, long size, long crc) {
        this.version = version;
        this.size = size;
        this.crc = crc;
        this.left = size;
        if (size == 0) {
          check();
        }
      }

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
          return 0;
        }
        if (at == buf.length) {
          if (left == 0) {
            return -1;
          }
          Frame f = frame();
          expect(f, CHUNK, "a CHUNK frame of snapshot " + version);
          if (f.body.length == 0 || f.body.length > left || f.body.length > CHUNK_BYTES) {
            throw damaged(
                "a CHUNK frame of snapshot "
                    + version
                    + " holds "
                    + f.body.length
                    + " bytes where "
                    + left
                    + " of its "
                    + size
                    + " remain (at most "
                    + CHUNK_BYTES
                    + " per chunk)");
          }
          buf = f.body;
          at = 0;
          left -= buf.length;
          seen.update(buf);
          digest.bytes(buf, 0, buf.length);
          if (left == 0) {
            check();
          }
        }
        int n = Math.min(len, buf.length - at);
        System.arraycopy(buf, at, b, off, n);
        at += n;
        return n;
      }

      private void check() {
        if (seen.getValue() != crc) {
          throw damaged(
              String.format(
                  "the bytes of snapshot %d have CRC-32C %08x but its SNAPSHOT frame records %08x",
                  version, seen.getValue(), crc));
        }
      }
    }

    /** One frame read and checked against its CRC. */
    private final class Frame {
      final int type;
      final byte[] body;
      final long at;

      Frame(int type, byte[] body, long at) {
        this.type = type;
        this.body = body;
        this.at = at;
      }

      DataInputStream data() {
        return new DataInputStream(new ByteArrayInputStream(body));
      }

      /** The body must have been read exactly. */
      void end(DataInputStream d) throws IOException {
        if (d.available() != 0) {
          throw damaged("the " + typeName(type) + " frame has " + d.available() + " extra bytes");
        }
      }
    }

    private int peek() throws IOException {
      if (!in.markSupported()) {
        throw new IllegalArgumentException("PortableStream.read needs a stream with mark/reset");
      }
      in.mark(1);
      int t = in.read();
      in.reset();
      return t;
    }

    private Frame frame() throws IOException {
      frameAt = pos;
      byte[] head = readN(5, "a frame");
      int type = head[0] & 0xFF;
      long len =
          ((head[1] & 0xFFL) << 24)
              | ((head[2] & 0xFFL) << 16)
              | ((head[3] & 0xFFL) << 8)
              | (head[4] & 0xFFL);
      if (len > MAX_FRAME) {
        throw damaged(
            "a frame (type byte "
                + type
                + ") declares "
                + len
                + " bytes, more than any frame holds ("
                + MAX_FRAME
                + ")");
      }
      byte[] body = readN((int) len, "the body of a " + typeName(type) + " frame");
      byte[] c = readN(4, "the checksum of a " + typeName(type) + " frame");
      long recorded =
          ((c[0] & 0xFFL) << 24) | ((c[1] & 0xFFL) << 16) | ((c[2] & 0xFFL) << 8) | (c[3] & 0xFFL);
      CRC32C crc = new CRC32C();
      crc.update(head);
      crc.update(body);
      if (crc.getValue() != recorded) {
        throw damaged(
            String.format(
                "checksum mismatch: the %s frame has CRC-32C %08x but %08x was recorded",
                typeName(type), crc.getValue(), recorded));
      }
      return new Frame(type, body, frameAt);
    }

    private byte[] readN(int n, String what) throws IOException {
      byte[] b = in.readNBytes(n);
      pos += b.length;
      if (b.length < n) {
        throw truncated("inside " + what);
      }
      return b;
    }

    private Damaged truncated(String what) {
      return new Damaged(
          "Truncated export stream "
              + name
              + ": it ends at byte offset "
              + pos
              + " "
              + what
              + where()
              + "; the trailer is missing, so the stream is incomplete. Export it again.");
    }

    private void expect(Frame f, int type, String what) {
      if (f.type != type) {
        throw damaged("found a " + typeName(f.type) + " frame where " + what + " was expected");
      }
    }

    private static byte[] bytes(DataInputStream d) throws IOException {
      int n = d.readInt();
      if (n < 0 || n > d.available()) {
        throw new EOFException("a length of " + n + " bytes past the frame's end");
      }
      return d.readNBytes(n);
    }

    private StoreKind kind(int ordinal) {
      StoreKind[] kinds = StoreKind.values();
      if (ordinal >= kinds.length) {
        throw damaged("unknown store kind " + ordinal);
      }
      return kinds[ordinal];
    }

    private Damaged damaged(String what) {
      return new Damaged("Damaged export stream " + name + ": " + what + where());
    }

    private String where() {
      return " (frame at byte offset "
          + frameAt
          + (store == null ? "" : ", store " + show(store))
          + (item < 0 ? "" : ", item " + item)
          + ")";
    }
  }

  static String show(StoreId id) {
    return id.kind().shortName() + ":" + id.name();
  }

  private static String describe(List<Summary> summaries) {
    StringBuilder sb = new StringBuilder("[");
    for (Summary s : summaries) {
      if (sb.length() > 1) {
        sb.append(", ");
      }
      sb.append(show(s.store()))
          .append(' ')
          .append(s.items())
          .append(" item(s) crc ")
          .append(String.format("%08x", s.checksum()));
    }
    return sb.append(']').toString();
  }

  static String typeName(int type) {
    return switch (type) {
      case HEADER -> "HEADER";
      case STORE -> "STORE";
      case ENTRY -> "ENTRY";
      case RECORD -> "RECORD";
      case SNAPSHOT -> "SNAPSHOT";
      case CHUNK -> "CHUNK";
      case TRAILER -> "TRAILER";
      default -> "unknown (type byte " + type + ")";
    };
  }
}
