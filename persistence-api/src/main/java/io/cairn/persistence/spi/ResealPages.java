package io.cairn.persistence.spi;

import io.cairn.persistence.Progress;
import io.cairn.persistence.ResealReport;
import io.cairn.persistence.StoreId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The page loop of an in-place {@link io.cairn.persistence.StorageBackend#reseal}, written once:
 * the backend reads and rewrites one page of at most {@link #pageSize()} rows per atomic engine
 * operation (one transaction), starting after a cursor (the key of the last row of the page
 * before); this class runs pages until one comes back short, counts per store what was checked and
 * re-sealed, reports progress and builds the {@link ResealReport}.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li>Not thread-safe: one instance per reseal run, used on one thread.
 *   <li>A page's counts are applied only once its {@link PageWork} has returned, that is once the
 *       page committed; a page work that the engine runs again (a retried transaction) must build a
 *       fresh {@link Page} from the cursor it is given each time, and change nothing outside the
 *       engine, so nothing is counted twice.
 *   <li>An exception from a page work (a {@link io.cairn.persistence.StoreCorruptedException} for a
 *       row that fails its checksum, a storage error) propagates unchanged and ends the run: pages
 *       committed before it stay re-sealed, and running reseal again resumes (rows already under
 *       the primary key are only checked).
 *   <li>A page that reports more rows than the page size throws {@link IllegalStateException} (the
 *       loop's end test would be wrong).
 * </ul>
 */
public final class ResealPages {
  private final String backend;
  private final int pageSize;
  private final Progress progress;
  private final Map<StoreId, long[]> counts = new TreeMap<>(); // {checked, resealed}

  /**
   * @param backend the backend instance name, for the report
   * @param pageSize rows per page, at least 1; the backend's page query uses the same limit
   * @param progress told, after each page, the last store's count of checked records
   */
  public ResealPages(String backend, int pageSize, Progress progress) {
    this.backend = Objects.requireNonNull(backend, "backend");
    if (pageSize < 1) {
      throw new IllegalArgumentException("page size must be at least 1, got " + pageSize);
    }
    this.pageSize = pageSize;
    this.progress = Objects.requireNonNull(progress, "progress");
  }

  /** Rows per page. */
  public int pageSize() {
    return pageSize;
  }

  /**
   * One page, read and rewritten atomically from the cursor {@code from} (a copy: the work may keep
   * or change it). Returns what it saw, as {@code new Page(from)} plus one {@link Page#add} per
   * row.
   */
  @FunctionalInterface
  public interface PageWork {
    Page run(Object[] from);
  }

  /** What one page saw: its rows' stores, whether each was re-sealed, and where it ended. */
  public static final class Page {
    private final Object[] cursor;
    private final List<StoreId> seen = new ArrayList<>();
    private final List<Boolean> resealed = new ArrayList<>();

    /** An empty page that starts (and, without rows, ends) at {@code from}, copied. */
    public Page(Object[] from) {
      this.cursor = from.clone();
    }

    /**
     * Records one row of {@code store}, re-sealed or only checked; the cursor moves to {@code
     * position} (the row's key columns, in the cursor's order).
     */
    public void add(StoreId store, boolean wasResealed, Object... position) {
      if (position.length != cursor.length) {
        throw new IllegalArgumentException(
            "a row's position has " + position.length + " columns, the cursor " + cursor.length);
      }
      seen.add(Objects.requireNonNull(store, "store"));
      resealed.add(wasResealed);
      System.arraycopy(position, 0, cursor, 0, cursor.length);
    }

    /** Rows recorded. */
    public int rows() {
      return seen.size();
    }

    /** Where the next page starts (a copy). */
    public Object[] cursor() {
      return cursor.clone();
    }
  }

  /**
   * Runs pages from {@code start} until one has fewer than {@link #pageSize()} rows, applying each
   * page's counts after it returned.
   */
  public void run(Object[] start, PageWork work) {
    Objects.requireNonNull(work, "work");
    Object[] cursor = start.clone();
    while (true) {
      Page page = Objects.requireNonNull(work.run(cursor.clone()), "page");
      int rows = page.rows();
      if (rows > pageSize) {
        throw new IllegalStateException(
            "a reseal page of "
                + backend
                + " returned "
                + rows
                + " rows, above its size "
                + pageSize);
      }
      apply(page);
      if (rows < pageSize) {
        return;
      }
      cursor = page.cursor();
    }
  }

  private void apply(Page page) {
    for (int i = 0; i < page.seen.size(); i++) {
      long[] c = counts.computeIfAbsent(page.seen.get(i), k -> new long[2]);
      c[0]++;
      if (page.resealed.get(i)) {
        c[1]++;
      }
    }
    if (!page.seen.isEmpty()) {
      StoreId last = page.seen.get(page.seen.size() - 1);
      progress.report(last.toString(), counts.get(last)[0], -1);
    }
  }

  /** The counts so far, as the report {@code reseal} returns. */
  public ResealReport report() {
    Map<StoreId, ResealReport.Counts> out = new TreeMap<>();
    counts.forEach((id, c) -> out.put(id, new ResealReport.Counts(c[0], c[1])));
    return new ResealReport(backend, new TreeMap<>(out));
  }
}
