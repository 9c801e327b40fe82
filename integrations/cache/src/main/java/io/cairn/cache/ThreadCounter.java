package io.cairn.cache;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.LongAdder;

/**
 * An exact counter whose {@link #increment()} costs no atomic instruction in the common case: each
 * thread counts in a cell of its own (slot {@code threadId mod } {@value #SLOTS}), which only it
 * writes, with an opaque store (a plain {@code mov} on x86; {@link java.util.concurrent.atomic
 * .LongAdder#increment()} is a locked read-modify-write, about 6 ns on this project's VMs and a
 * third of a cache hit). {@link #sum()} adds up all cells.
 *
 * <ul>
 *   <li><b>Exact.</b> No increment is lost: a thread whose slot is held by another live thread
 *       counts in a shared {@link LongAdder} instead; a slot held by a thread that has terminated
 *       is taken over after its count was folded into {@code retired} (termination happens-before
 *       {@link Thread#isAlive()} returning false, so that count is final). {@link #sum()} sees
 *       every increment that happens-before it (e.g. of threads it joined) and, like {@code
 *       LongAdder.sum()}, possibly some concurrent ones; successive sums read by one thread never
 *       decrease.
 *   <li><b>Bounded.</b> At most {@value #SLOTS} cells; a cell keeps its (possibly terminated)
 *       thread reachable until another thread takes the slot over.
 * </ul>
 *
 * <p>Thread-safe.
 */
final class ThreadCounter {
  /**
   * Number of per-thread slots (a power of two). Thread ids are sequential, so up to this many
   * threads started close together get a slot each.
   */
  static final int SLOTS = 128;

  private static final VarHandle COUNT;

  static {
    try {
      COUNT = MethodHandles.lookup().findVarHandle(Value.class, "count", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Cell[] cells = new Cell[SLOTS]; // element writes guarded by this
  private final LongAdder shared = new LongAdder(); // threads whose slot another live thread holds
  private long retired; // guarded by this: counts of terminated threads' cells taken over

  /**
   * The cell of the thread that counted last, checked first: one load and one compare instead of
   * the slot lookup. Written (plainly; {@link Cell#owner} is final, so a racy read still sees the
   * owner) on a switch of counting threads until {@value #MAX_SWITCHES} switches showed that
   * several threads count here; from then on it stays, so that threads do not keep writing one
   * shared field.
   */
  private Cell last = new Cell(null);

  private int switches; // racy, approximate: only decides when to stop updating last

  /** Thread switches after which {@link #last} is no longer updated. */
  static final int MAX_SWITCHES = 64;

  /** Cache-line padding before {@link Value#count} (superclass fields are laid out first). */
  @SuppressWarnings("unused")
  private static class PadBefore {
    long p01, p02, p03, p04, p05, p06, p07, p08;
  }

  /** The count of a {@link Cell}, between paddings. */
  private static class Value extends PadBefore {
    long count; // owner: plain read, opaque write; others: opaque read
  }

  /**
   * One thread's count; {@code count} is written only by {@code owner}. Padded to keep the counter
   * off cache lines other threads write (e.g. a Caffeine read buffer allocated next to it and
   * drained on another thread): such false sharing would make every hit wait for the line.
   */
  @SuppressWarnings("unused")
  private static final class Cell extends Value {
    long p11, p12, p13, p14, p15, p16, p17, p18;
    final Thread owner;

    Cell(Thread owner) {
      this.owner = owner;
    }
  }

  /** Adds one. */
  void increment() {
    Cell c = last;
    if (c.owner == Thread.currentThread()) {
      COUNT.setOpaque(c, c.count + 1);
    } else {
      incrementInSlot();
    }
  }

  private void incrementInSlot() {
    Thread t = Thread.currentThread();
    Cell[] cs = cells;
    Cell c = cs[(int) t.getId() & (cs.length - 1)];
    if (c != null && c.owner == t) {
      COUNT.setOpaque(c, c.count + 1);
      if (switches < MAX_SWITCHES) {
        switches++;
        last = c;
      }
    } else {
      incrementSlow(t);
    }
  }

  private void incrementSlow(Thread t) {
    int slot = (int) t.getId() & (SLOTS - 1);
    synchronized (this) {
      Cell c = cells[slot];
      if (c == null || !c.owner.isAlive()) {
        if (c != null) {
          retired += c.count; // final: its owner terminated
        }
        Cell mine = new Cell(t);
        mine.count = 1;
        cells[slot] = mine; // Cell.owner is final: safely read by the unsynchronized fast path
        return;
      }
    }
    shared.increment();
  }

  /** The count: every increment that happens-before this call, and possibly concurrent ones. */
  synchronized long sum() {
    long s = retired + shared.sum();
    for (Cell c : cells) {
      if (c != null) {
        s += (long) COUNT.getOpaque(c);
      }
    }
    return s;
  }

  /** How many slots hold a cell (for tests). */
  synchronized int cellsInUse() {
    int n = 0;
    for (Cell c : cells) {
      if (c != null) {
        n++;
      }
    }
    return n;
  }
}
