package io.cairn.backend.sqlite;

import io.cairn.persistence.Durability;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * Detects committed transactions that SQLite would silently drop from a damaged or missing WAL.
 *
 * <p><b>Why.</b> At open SQLite replays {@code cairn.db-wal} up to the first frame whose checksum
 * or salts do not match, and treats everything after it as a torn tail. That is right after a torn
 * write, but a flipped byte in the middle of the WAL, or a deleted WAL, then loses committed
 * transactions without an error, and can even serve older page versions from the frames before the
 * damage. Cairn checks two things before SQLite opens the file:
 *
 * <ol>
 *   <li><b>Frames after a bad one.</b> The WAL format is public (sqlite.org/walformat.html): a
 *       32-byte header (magic 0x377f0682/3, version, page size, checkpoint sequence, salt-1,
 *       salt-2, checksum) and frames of a 24-byte header (page number, commit size &ne; 0 on the
 *       last frame of a transaction, the two salts, a cumulative checksum) plus one page. Frames
 *       carrying the header's salts that end transactions ({@code commit size} &ne; 0) after the
 *       first frame that fails the checksum chain are commits SQLite would drop, from the second
 *       one on: the first may be the damaged frame's own transaction, which a kill can leave with
 *       stale checksums (SQLite re-checksums frames rewritten within a transaction after writing
 *       its commit frame) and which was then never acknowledged; the mark decides it.
 *   <li><b>The commit mark.</b> After every commit the writer copies the WAL position SQLite
 *       publishes in its wal-index ({@code cairn.db-shm}: salts, {@code mxFrame} = frames
 *       committed, {@code nBackfill} = frames already copied into {@code cairn.db}) into the side
 *       file {@code cairn.db-mark} (layout below) when it changed. At open, a WAL whose valid
 *       frames stop before the mark's {@code mxFrame}, or a missing or replaced WAL while the mark
 *       says frames were not yet copied into {@code cairn.db}, lost committed transactions. This
 *       catches a deleted WAL (with or without its {@code -shm}), which the frame scan cannot.
 * </ol>
 *
 * <p><b>cairn.db-mark</b> (format 2: 128 bytes, mode 0600): two 64-byte slots, at 0 and 64, written
 * in turn, so that a write interrupted half way (a kill while the slot is copied) leaves the other
 * slot, one commit older, intact. Each slot:
 *
 * <pre>
 *   0  magic "CRNM"            4  format version (int, 2)
 *   8  salt-1, salt-2 (the 8 raw bytes of WAL header offset 16)
 *  16  mxFrame (int)          20  nBackfill (int)
 *  24  boot id (16 bytes, /proc/sys/kernel/random/boot_id; zero where unknown)
 *  40  clean (int: 1 = checkpointed and truncated by a clean close)
 *  44  sequence (int: one more than the other slot's when written; compared with wrap-around)
 *  48  CRC-32C of bytes 0..47 (int)       52  zero up to 64
 * </pre>
 *
 * All integers big-endian. The current mark is the slot that passes its CRC with the higher
 * sequence; one failing its CRC is a write a kill interrupted, and the other slot is used; both
 * failing is a damaged mark (the check then falls back to the frame scan alone, as for a missing
 * one). Format 1, an earlier Cairn's, was one 48-byte slot without the sequence, rewritten in place
 * by a positional write: it is read at open, and rewritten as format 2 (its content in slot 0)
 * before the first commit.
 *
 * <p>Where the file system is POSIX the slots are written through a shared read-write mapping of
 * the file: a copy of 64 bytes, no system call (the positional write it replaced was about 6 % of a
 * one-thread put's CPU, 2 &micro;s: benchmarks/RESULTS-sqlite.md, 2026-12-08). The copy lands in
 * the page cache at once, so a killed process leaves it there for the kernel to write, exactly as a
 * write would; a kill during the copy tears at most the slot being written, which is why there are
 * two. Elsewhere each slot is written with one positional write. The mark is not fsynced per commit
 * (that would double the fsyncs at {@code full}); it is written after the commit returned, so on
 * disk it can only lag behind the WAL, never run ahead of a commit that {@code full} made durable.
 * At {@code none}/{@code normal} an OS crash may legitimately lose the last commits (the WAL was
 * not fsynced), so when the boot id changed since the mark was written, findings at those
 * durabilities are logged as the loss the durability allows instead of refusing to open. After an
 * OS crash at {@code full}, only the last transaction can be torn, so a bad frame followed by its
 * own commit frame alone is accepted then.
 *
 * <p><b>Cost.</b> Per commit: a copy of 136 bytes from a read-only mapping of {@code cairn.db-shm}
 * (a positional read where the file system is not POSIX) and, when the WAL moved, a copy of 64
 * bytes into the mark's mapping (a positional write where not POSIX). At open: one sequential read
 * of the WAL.
 *
 * <p>A missing or empty {@code cairn.db} while the mark exists and no WAL holds data is reported
 * too: the mark is created only after the first open committed the schema.
 *
 * <p><b>Not detected</b> (documented): damage to the last transaction when it is also the last
 * thing in the WAL and the mark was not yet updated for it (it looks exactly like a torn tail); a
 * WAL damaged or deleted after an OS crash at {@code none}/{@code normal} (logged, not refused); a
 * deleted mark file (the check then falls back to the frame scan alone).
 *
 * <p>Not thread-safe: used at open, and then by the writer under its lock.
 */
final class WalGuard implements AutoCloseable {
  static final String MARK_SUFFIX = "-mark";

  private static final int WAL_HEADER = 32;
  private static final int FRAME_HEADER = 24;

  /** Format 1's size: one slot of 48 bytes (an earlier Cairn's). */
  private static final int MARK_V1_SIZE = 48;

  private static final int SLOT = 64;
  private static final int MARK_SIZE = 2 * SLOT;
  private static final byte[] MARK_MAGIC = "CRNM".getBytes(StandardCharsets.US_ASCII);
  private static final int MAGIC = ByteBuffer.wrap(MARK_MAGIC).getInt();
  private static final int SHM_READ = 136;
  private static final int SHM_VERSION = 3007000;
  private static final byte[] BOOT_ID = bootId();

  /** What the frame scan of a WAL found. */
  record Scan(
      boolean present,
      boolean headerValid,
      byte[] salts,
      long frames,
      long validFrames,
      long firstBad,
      int commitsAfterBad,
      boolean holdsWholeDatabase) {}

  /** The content of {@code cairn.db-mark}. */
  record Mark(
      byte[] salts, long mxFrame, long nBackfill, byte[] bootId, boolean clean, int sequence) {
    boolean sameBoot() {
      return Arrays.equals(bootId, BOOT_ID) && !Arrays.equals(bootId, new byte[16]);
    }
  }

  private final Path shm;
  private final Path markFile;
  private FileChannel shmChannel;
  private MappedByteBuffer shmMap; // the wal-index header, once mapped (readHeader)
  private boolean mapShm; // whether readHeader maps the file (POSIX file systems)
  private FileChannel markChannel;
  private MappedByteBuffer markMap; // the mark file, where the file system is POSIX
  private int markSequence; // the sequence of the current slot; the next write goes to the other
  private int currentSlot; // the offset of the current slot, 0 or SLOT
  private final ByteBuffer shmBuf = ByteBuffer.allocate(SHM_READ).order(ByteOrder.nativeOrder());
  private final ByteBuffer markBuf = ByteBuffer.allocate(SLOT);
  private byte[] lastSalts = new byte[8];
  private long lastMx = -1;
  private long lastBackfill = -1;
  private String disabled;
  private boolean readOnly;

  private WalGuard(Path db) {
    this.shm = db.resolveSibling(db.getFileName() + "-shm");
    this.markFile = markFile(db);
  }

  /**
   * A guard that tracks nothing and writes nothing, for a read-only open beside the writer (the
   * commit mark belongs to the process that holds the lock).
   */
  static WalGuard readOnly(Path db) {
    WalGuard g = new WalGuard(db);
    g.disabled = "read-only open";
    g.readOnly = true;
    return g;
  }

  /** Whether this is {@link #readOnly}: the writer must not checkpoint at close either. */
  boolean isReadOnly() {
    return readOnly;
  }

  static Path markFile(Path db) {
    return db.resolveSibling(db.getFileName() + MARK_SUFFIX);
  }

  static Path walFile(Path db) {
    return db.resolveSibling(db.getFileName() + "-wal");
  }

  // ---- at open, before SQLite touches the files ----

  /**
   * Checks the WAL of {@code db} against its frames and the mark. Returns the problems found (empty
   * if none); {@code warnings} receives losses that the durability allows after an OS crash, and
   * {@code notes} anything else worth logging (a damaged mark).
   */
  static List<String> check(
      Path db, Durability durability, List<String> warnings, List<String> notes)
      throws IOException {
    Path wal = walFile(db);
    Scan scan = scan(wal);
    Mark mark = readMark(markFile(db), notes);
    boolean rebooted = mark != null && !mark.sameBoot();
    List<String> problems = new ArrayList<>();
    boolean dbEmpty = !Files.exists(db, LinkOption.NOFOLLOW_LINKS) || Files.size(db) == 0;
    if (dbEmpty
        && !scan.holdsWholeDatabase()
        && (scan.validFrames() > 0 || Files.exists(markFile(db), LinkOption.NOFOLLOW_LINKS))) {
      // The mark is created by the first open, after the schema was committed: this directory
      // held a database, and neither cairn.db nor its WAL holds it any more. (A WAL whose valid
      // commits wrote every page of the database does: a new database before its first
      // checkpoint.)
      problems.add(
          db
              + (Files.exists(db, LinkOption.NOFOLLOW_LINKS) ? " is empty" : " is missing")
              + ", but "
              + markFile(db).getFileName()
              + " or its WAL shows that this directory held a Cairn database, and the WAL alone"
              + " does not hold all of it:"
              + " it was deleted or truncated. Restore it from a backup; to start a new, empty"
              + " database here instead, delete "
              + markFile(db).getFileName());
    }
    // One commit frame after the first bad frame is the bad frame's own transaction: that is how a
    // kill leaves a commit interrupted between writing its frames and SQLite rewriting their
    // checksums (frames rewritten within a transaction are re-checksummed after the commit frame
    // is written), and how a torn last write looks. Whether that transaction had been
    // acknowledged is the mark's question (below). Two or more mean a later transaction began
    // after the damaged one had completed: committed data SQLite would drop.
    if (scan.commitsAfterBad() >= 2) {
      String what =
          wal
              + ": frame "
              + scan.firstBad()
              + " of "
              + scan.frames()
              + " fails its checksum, and "
              + scan.commitsAfterBad()
              + " committed transaction(s) follow it in the WAL; SQLite would drop them (and"
              + " could serve older page versions from the frames before the damage)";
      if (rebooted && durability != Durability.FULL) {
        warnings.add(what + " — after an OS crash at durability " + durability.configName());
      } else {
        problems.add(what);
      }
    }
    if (mark != null && !mark.clean() && mark.mxFrame() > 0) {
      String lost = null;
      if (!scan.present() || !scan.headerValid()) {
        if (mark.mxFrame() > mark.nBackfill()) {
          lost =
              wal
                  + (scan.present() ? " has a damaged header" : " is missing")
                  + ", but "
                  + (mark.mxFrame() - mark.nBackfill())
                  + " committed frame(s) (frames "
                  + (mark.nBackfill() + 1)
                  + " to "
                  + mark.mxFrame()
                  + ") were in it and not yet copied into "
                  + db.getFileName();
        }
      } else if (!Arrays.equals(scan.salts(), mark.salts())) {
        if (mark.mxFrame() > mark.nBackfill()) {
          lost =
              wal
                  + " is not the WAL the last commits went to (its salts differ from "
                  + markFile(db).getFileName()
                  + "), and "
                  + (mark.mxFrame() - mark.nBackfill())
                  + " committed frame(s) of that WAL were not yet copied into "
                  + db.getFileName();
        }
      } else if (scan.validFrames() < mark.mxFrame()) {
        lost =
            wal
                + ": only its first "
                + scan.validFrames()
                + " frame(s) are valid, but "
                + mark.mxFrame()
                + " were committed (frame "
                + (scan.validFrames() + 1)
                + " is damaged or missing)";
      }
      if (lost != null) {
        if (rebooted && durability != Durability.FULL) {
          warnings.add(lost + " — after an OS crash at durability " + durability.configName());
        } else {
          problems.add(lost);
        }
      }
    }
    return problems;
  }

  /** Walks the frames of {@code wal}; see the class comment. */
  static Scan scan(Path wal) throws IOException {
    if (!Files.exists(wal, LinkOption.NOFOLLOW_LINKS)) {
      return new Scan(false, false, null, 0, 0, 0, 0, false);
    }
    try (FileChannel ch =
        FileChannel.open(wal, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      long size = ch.size();
      if (size < WAL_HEADER) {
        return new Scan(size > 0, false, null, 0, 0, 0, 0, false);
      }
      ByteBuffer header = ByteBuffer.allocate(WAL_HEADER);
      readFully(ch, header, 0);
      int magic = header.getInt(0);
      int pageSize = header.getInt(8);
      boolean bigEndian = (magic & 1) == 1;
      boolean valid =
          (magic & 0xFFFFFFFE) == 0x377f0682
              && header.getInt(4) == 3007000
              && pageSize >= 512
              && pageSize <= 65536
              && Integer.bitCount(pageSize) == 1;
      int[] sum = new int[2];
      if (valid) {
        checksum(header.array(), 0, 24, bigEndian, sum);
        valid = sum[0] == header.getInt(24) && sum[1] == header.getInt(28);
      }
      if (!valid) {
        return new Scan(true, false, null, 0, 0, 0, 0, false);
      }
      byte[] salts = Arrays.copyOfRange(header.array(), 16, 24);
      int frameSize = FRAME_HEADER + pageSize;
      long frames = (size - WAL_HEADER) / frameSize;
      ByteBuffer frame = ByteBuffer.allocate(frameSize);
      long validFrames = 0;
      long firstBad = 0;
      int commitsAfterBad = 0;
      byte[] salt = new byte[8];
      java.util.BitSet committed = new java.util.BitSet(); // pages written by valid commits
      List<Integer> pending = new ArrayList<>(); // pages of the transaction being read
      long committedPages = 0; // database size in pages after the last valid commit
      for (long i = 1; i <= frames; i++) {
        frame.clear();
        readFully(ch, frame, WAL_HEADER + (i - 1) * frameSize);
        byte[] f = frame.array();
        System.arraycopy(f, 8, salt, 0, 8);
        boolean current = Arrays.equals(salt, salts);
        if (firstBad == 0) {
          int s0 = sum[0];
          int s1 = sum[1];
          checksum(f, 0, 8, bigEndian, sum);
          checksum(f, FRAME_HEADER, pageSize, bigEndian, sum);
          if (current && sum[0] == frame.getInt(16) && sum[1] == frame.getInt(20)) {
            validFrames = i;
            pending.add(frame.getInt(0));
            if (frame.getInt(4) != 0) {
              committedPages = frame.getInt(4) & 0xFFFFFFFFL;
              pending.forEach(committed::set);
              pending.clear();
            }
            continue;
          }
          sum[0] = s0;
          sum[1] = s1;
          // an older generation's frame is the normal end of this WAL, unless frames of the
          // current generation follow it (counted below)
          firstBad = i;
        }
        if (current && frame.getInt(4) != 0) {
          commitsAfterBad++;
        }
      }
      boolean whole = committedPages > 0 && committed.nextClearBit(1) > committedPages;
      return new Scan(true, true, salts, frames, validFrames, firstBad, commitsAfterBad, whole);
    }
  }

  /** SQLite's WAL checksum over {@code len} bytes (a multiple of 8), continuing {@code sum}. */
  private static void checksum(byte[] b, int off, int len, boolean bigEndian, int[] sum) {
    ByteBuffer buf =
        ByteBuffer.wrap(b, off, len)
            .order(bigEndian ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
    int s0 = sum[0];
    int s1 = sum[1];
    for (int i = off; i < off + len; i += 8) {
      s0 += buf.getInt(i) + s1;
      s1 += buf.getInt(i + 4) + s0;
    }
    sum[0] = s0;
    sum[1] = s1;
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, pos + buf.position());
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
    }
    buf.flip();
  }

  /** Reads the mark; null if absent, or (with a warning) if damaged. */
  static Mark readMark(Path file, List<String> warnings) throws IOException {
    byte[] b;
    try {
      if (Files.isSymbolicLink(file)) {
        throw new IOException(file + " is a symbolic link; Cairn does not follow links");
      }
      b = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return null;
    }
    Mark mark = parse(b);
    if (mark == null) {
      warnings.add(
          file
              + " is damaged (ignored: the WAL is checked by its frames alone this time; it is"
              + " rewritten after the next commit)");
    }
    return mark;
  }

  /** The current mark of a mark file's bytes (either format), or null if none is valid. */
  private static Mark parse(byte[] b) {
    if (b.length == MARK_V1_SIZE) {
      return parseSlot(ByteBuffer.wrap(b), 0, 1);
    }
    if (b.length != MARK_SIZE) {
      return null;
    }
    ByteBuffer buf = ByteBuffer.wrap(b);
    int current = currentSlotOf(buf);
    return current < 0 ? null : parseSlot(buf, current, 2);
  }

  /**
   * The offset of the current slot of a format-2 mark: the valid one, or of two valid ones the one
   * with the higher sequence (with wrap-around); -1 if neither is valid.
   */
  private static int currentSlotOf(ByteBuffer buf) {
    Mark first = parseSlot(buf, 0, 2);
    Mark second = parseSlot(buf, SLOT, 2);
    if (second != null && (first == null || second.sequence() - first.sequence() > 0)) {
      return SLOT;
    }
    return first != null ? 0 : -1;
  }

  /**
   * The slot at {@code off} in format {@code version} (1: 48 bytes with the CRC at 44, sequence 0;
   * 2: see the class comment), or null if it fails its magic, version or CRC.
   */
  private static Mark parseSlot(ByteBuffer buf, int off, int version) {
    int crcAt = version == 1 ? 44 : 48;
    if (buf.getInt(off) != MAGIC
        || buf.getInt(off + 4) != version
        || buf.getInt(off + crcAt) != crc(buf.array(), off, crcAt)) {
      return null;
    }
    byte[] b = buf.array();
    return new Mark(
        Arrays.copyOfRange(b, off + 8, off + 16),
        buf.getInt(off + 16) & 0xFFFFFFFFL,
        buf.getInt(off + 20) & 0xFFFFFFFFL,
        Arrays.copyOfRange(b, off + 24, off + 40),
        buf.getInt(off + 40) == 1,
        version == 1 ? 0 : buf.getInt(off + 44));
  }

  private static int crc(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  private static byte[] bootId() {
    try {
      String id =
          Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim().replace("-", "");
      byte[] out = new byte[16];
      for (int i = 0; i < 16; i++) {
        out[i] = (byte) Integer.parseInt(id.substring(2 * i, 2 * i + 2), 16);
      }
      return out;
    } catch (IOException | RuntimeException e) {
      return new byte[16]; // unknown: every finding counts as same-boot, i.e. strict
    }
  }

  // ---- while open: the writer's commit mark ----

  /** Starts tracking commits of the open database {@code db}; call after SQLite opened it. */
  static WalGuard open(Path db) throws IOException {
    WalGuard g = new WalGuard(db);
    Set<OpenOption> opts =
        new HashSet<>(
            List.of(
                StandardOpenOption.READ,
                StandardOpenOption.WRITE,
                StandardOpenOption.CREATE,
                LinkOption.NOFOLLOW_LINKS));
    boolean posix = db.getFileSystem().supportedFileAttributeViews().contains("posix");
    g.markChannel =
        posix
            ? FileChannel.open(
                g.markFile,
                opts,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
            : FileChannel.open(g.markFile, opts);
    g.mapShm = posix;
    g.startMark(posix);
    return g;
  }

  /**
   * Makes the mark file format 2 (rewriting an earlier format's, or an empty new file, with one
   * positional write: slot 0 holds a format-1 mark's content, else both slots are empty), finds the
   * current slot, and maps the file where {@code map} (POSIX).
   */
  private void startMark(boolean map) throws IOException {
    ByteBuffer content = ByteBuffer.allocate((int) Math.min(markChannel.size(), MARK_SIZE + 1));
    while (content.hasRemaining() && markChannel.read(content, content.position()) >= 0) {
      // up to one byte more than a mark: a longer file is a mark of neither format
    }
    byte[] b = Arrays.copyOf(content.array(), content.position());
    if (b.length != MARK_SIZE) {
      Mark earlier = parse(b);
      ByteBuffer image = ByteBuffer.allocate(MARK_SIZE);
      if (earlier != null) {
        encode(
            image,
            0,
            earlier.salts(),
            earlier.mxFrame(),
            earlier.nBackfill(),
            earlier.bootId(),
            earlier.clean(),
            0);
      }
      image.clear();
      while (image.hasRemaining()) {
        markChannel.write(image, image.position());
      }
      markChannel.truncate(MARK_SIZE);
      b = image.array();
    }
    ByteBuffer buf = ByteBuffer.wrap(b);
    int current = currentSlotOf(buf);
    currentSlot = Math.max(current, 0); // none valid: the first write goes to the second slot
    markSequence = current < 0 ? 0 : parseSlot(buf, current, 2).sequence();
    if (map) {
      markMap = markChannel.map(FileChannel.MapMode.READ_WRITE, 0, MARK_SIZE);
    }
  }

  /**
   * Records the WAL position after a commit (see the class comment). Never throws: a failure
   * disables tracking for this session, and {@link #disabledReason()} says why.
   */
  void afterCommit() {
    if (disabled != null) {
      return;
    }
    try {
      if (!readHeader()) {
        return; // not initialised yet
      }
      // two copies of the header; they differ only while another connection rewrites it
      for (int i = 0; i < 48; i++) {
        if (shmBuf.get(i) != shmBuf.get(48 + i)) {
          return;
        }
      }
      if (shmBuf.getInt(0) != SHM_VERSION) {
        disabled = "unknown wal-index version " + shmBuf.getInt(0) + " in " + shm;
        return;
      }
      long mx = shmBuf.getInt(16) & 0xFFFFFFFFL;
      long backfill = shmBuf.getInt(96) & 0xFFFFFFFFL;
      byte[] salts = new byte[8];
      shmBuf.get(32, salts);
      if (mx == lastMx && backfill == lastBackfill && Arrays.equals(salts, lastSalts)) {
        return;
      }
      write(salts, mx, backfill, false);
      lastSalts = salts;
      lastMx = mx;
      lastBackfill = backfill;
    } catch (IOException | RuntimeException | InternalError e) {
      // InternalError: the JVM's word for a fault reading a mapping (the file shrank under it)
      disabled = "cannot track the WAL through " + shm + " and " + markFile + ": " + e;
    }
  }

  /**
   * Copies the first {@link #SHM_READ} bytes of the wal-index into {@code shmBuf}; false while the
   * file is shorter (SQLite has not initialised it yet).
   *
   * <p>Where the file system is POSIX the bytes are read from a read-only mapping of the file, as
   * SQLite itself reads the wal-index: a positional read per commit was a system call costing about
   * 5 % of a one-thread put's CPU (benchmarks/RESULTS-sqlite.md, 2026-12-07). The mapping is made
   * once the file holds the header. It stays valid while this writer's connection is open: SQLite
   * truncates {@code -shm} only when a connection opens the database with no other connection open
   * (it holds SQLite's shared DMS lock otherwise), and it only unlinks the file at the last close,
   * which leaves a mapping readable. {@link #close} unmaps it. Elsewhere (where an open mapping
   * keeps a file from being deleted) a positional read as before.
   */
  private boolean readHeader() throws IOException {
    if (shmChannel == null) {
      shmChannel = FileChannel.open(shm, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    }
    if (shmMap == null && mapShm && shmChannel.size() >= SHM_READ) {
      shmMap = shmChannel.map(FileChannel.MapMode.READ_ONLY, 0, SHM_READ);
    }
    if (shmMap != null) {
      shmMap.get(0, shmBuf.array(), 0, SHM_READ);
      return true;
    }
    shmBuf.clear();
    int n = 0;
    while (shmBuf.hasRemaining() && n >= 0) {
      n = shmChannel.read(shmBuf, shmBuf.position());
    }
    return shmBuf.position() == SHM_READ;
  }

  /**
   * Makes the mark's last write durable (before the WAL it describes is truncated). Never throws: a
   * failure disables tracking for this session, like {@link #afterCommit()}.
   */
  void sync() {
    if (disabled != null || markChannel == null) {
      return;
    }
    try {
      force();
    } catch (IOException | RuntimeException e) {
      disabled = "cannot fsync " + markFile + ": " + e;
    }
  }

  /** Records that the WAL was checkpointed and truncated (clean close); fsyncs the mark. */
  void clean() throws IOException {
    if (readOnly) {
      return;
    }
    try {
      write(new byte[8], 0, 0, true);
      force();
    } catch (InternalError | RuntimeException e) {
      // the mapping's ways to fail: a fault on the page (InternalError), an msync error
      throw new IOException("cannot write " + markFile + " through its mapping: " + e, e);
    }
  }

  private void force() throws IOException {
    if (markMap != null) {
      markMap.force(); // msync of the mapping: what the copy wrote reaches the disk
    } else {
      markChannel.force(false);
    }
  }

  /** Writes the next mark into the slot that is not current, then makes that slot current. */
  private void write(byte[] salts, long mx, long backfill, boolean clean) throws IOException {
    int next = markSequence + 1;
    int slot = currentSlot == 0 ? SLOT : 0;
    encode(markBuf, 0, salts, mx, backfill, BOOT_ID, clean, next);
    if (markMap != null) {
      markMap.put(slot, markBuf.array(), 0, SLOT);
    } else {
      markBuf.clear();
      while (markBuf.hasRemaining()) {
        markChannel.write(markBuf, slot + markBuf.position());
      }
    }
    markSequence = next;
    currentSlot = slot;
  }

  /** Encodes one format-2 slot at {@code off} of {@code buf}'s array (see the class comment). */
  private static void encode(
      ByteBuffer buf,
      int off,
      byte[] salts,
      long mx,
      long backfill,
      byte[] bootId,
      boolean clean,
      int sequence) {
    buf.clear().position(off);
    buf.put(MARK_MAGIC).putInt(2).put(salts).putInt((int) mx).putInt((int) backfill);
    buf.put(bootId).putInt(clean ? 1 : 0).putInt(sequence);
    buf.putInt(crc(buf.array(), off, 48)); // bytes 52..63 stay zero: nothing else writes them
  }

  /**
   * Unmaps {@code map} now rather than when it is collected: a mapping left behind keeps the file
   * system of the data directory busy (it cannot be unmounted) and the space of a deleted {@code
   * -shm} in use after the backend closed. Through the JDK's {@code sun.misc.Unsafe.invokeCleaner}
   * (module jdk.unsupported, present in every JDK 17), looked up reflectively; where it is missing
   * the mapping goes with the buffer when collected, as before Java had the method.
   */
  private static void unmap(MappedByteBuffer map) {
    try {
      Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
      Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
      theUnsafe.setAccessible(true);
      unsafeClass.getMethod("invokeCleaner", ByteBuffer.class).invoke(theUnsafe.get(null), map);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // left to the collector (see above)
    }
  }

  /** Why commit tracking stopped, or null while it works. */
  String disabledReason() {
    return disabled;
  }

  @Override
  public void close() {
    for (MappedByteBuffer map : new MappedByteBuffer[] {shmMap, markMap}) {
      if (map != null) {
        unmap(map); // nothing uses them after close (close and every use run under the writer lock)
      }
    }
    shmMap = null;
    markMap = null;
    for (FileChannel ch : new FileChannel[] {shmChannel, markChannel}) {
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // nothing to do
        }
      }
    }
  }
}
