package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.Progress;
import io.cairn.persistence.ResealReport;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResealPagesTest {
  private static final StoreId A = new StoreId(StoreKind.KEY_VALUE, "a");
  private static final StoreId B = new StoreId(StoreKind.KEY_VALUE, "b");

  /** Rows 0..n-1 of store a, then 0..m-1 of store b; odd rows need resealing. */
  private static ResealPages.Page page(Object[] from, int size, int inA, int inB) {
    ResealPages.Page p = new ResealPages.Page(from);
    String store = (String) from[0];
    long row = (Long) from[1];
    while (p.rows() < size) {
      row++;
      if (store.equals("a") && row >= inA) {
        store = "b";
        row = 0;
      }
      if (store.equals("b") && row >= inB) {
        break;
      }
      p.add(store.equals("a") ? A : B, row % 2 == 1, store, row);
    }
    return p;
  }

  @Test
  void runsPagesUntilOneIsShortAndCountsPerStore() {
    List<String> progress = new ArrayList<>();
    List<Object> starts = new ArrayList<>();
    ResealPages pages =
        new ResealPages("main", 4, (phase, done, total) -> progress.add(phase + "=" + done));
    pages.run(
        new Object[] {"a", -1L},
        from -> {
          starts.add(from[0] + ":" + from[1]);
          return page(from, 4, 5, 3);
        });
    ResealReport report = pages.report();
    assertThat(report.backend()).isEqualTo("main");
    assertThat(report.stores().get(A)).isEqualTo(new ResealReport.Counts(5, 2));
    assertThat(report.stores().get(B)).isEqualTo(new ResealReport.Counts(3, 1));
    assertThat(starts).containsExactly("a:-1", "a:3", "b:2");
    assertThat(progress).containsExactly("kv:a=4", "kv:b=3").hasSize(2);
  }

  @Test
  void anExactMultipleEndsWithAnEmptyPage() {
    List<Object> starts = new ArrayList<>();
    ResealPages pages = new ResealPages("main", 4, Progress.NONE);
    pages.run(
        new Object[] {"a", -1L},
        from -> {
          starts.add(from[1]);
          return page(from, 4, 8, 0);
        });
    assertThat(starts).containsExactly(-1L, 3L, 7L);
    assertThat(pages.report().checked()).isEqualTo(8);
  }

  @Test
  void aRetriedPageIsCountedOnce() {
    ResealPages pages = new ResealPages("main", 4, Progress.NONE);
    pages.run(
        new Object[] {"a", -1L},
        from -> {
          page(from, 4, 3, 0); // a first attempt, rolled back by the engine: discarded
          return page(from, 4, 3, 0);
        });
    assertThat(pages.report().stores().get(A)).isEqualTo(new ResealReport.Counts(3, 1));
  }

  @Test
  void aFailingPageEndsTheRunKeepingCommittedCounts() {
    ResealPages pages = new ResealPages("main", 2, Progress.NONE);
    assertThatThrownBy(
            () ->
                pages.run(
                    new Object[] {"a", -1L},
                    from -> {
                      if ((Long) from[1] >= 1) {
                        throw new StoreCorruptedException("row 2 fails its checksum");
                      }
                      return page(from, 2, 10, 0);
                    }))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessage("row 2 fails its checksum");
    assertThat(pages.report().checked()).isEqualTo(2);
  }

  @Test
  void refusesAnOversizedPageAndABadPosition() {
    ResealPages pages = new ResealPages("main", 2, Progress.NONE);
    assertThatThrownBy(() -> pages.run(new Object[] {"a", -1L}, from -> page(from, 3, 10, 0)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("above its size 2");
    assertThatThrownBy(() -> new ResealPages.Page(new Object[] {1L}).add(A, true, "a", 1L))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ResealPages("main", 0, Progress.NONE))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
