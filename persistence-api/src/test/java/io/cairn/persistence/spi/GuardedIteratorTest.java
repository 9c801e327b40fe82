package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.CloseableIterator;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class GuardedIteratorTest {
  @Test
  void checksBeforeEachStepAndAlwaysCloses() {
    Iterator<String> source = List.of("a", "b").iterator();
    AtomicInteger closes = new AtomicInteger();
    CloseableIterator<String> inner =
        new CloseableIterator<>() {
          @Override
          public boolean hasNext() {
            return source.hasNext();
          }

          @Override
          public String next() {
            return source.next();
          }

          @Override
          public void close() {
            closes.incrementAndGet();
          }
        };
    AtomicBoolean open = new AtomicBoolean(true);
    AtomicInteger checks = new AtomicInteger();
    CloseableIterator<String> it =
        GuardedIterator.of(
            inner,
            () -> {
              checks.incrementAndGet();
              if (!open.get()) {
                throw new IllegalStateException("view ended");
              }
            });
    assertThat(it.hasNext()).isTrue();
    assertThat(it.next()).isEqualTo("a");
    assertThat(checks).hasValue(2);
    open.set(false);
    assertThatThrownBy(it::hasNext).hasMessage("view ended");
    assertThatThrownBy(it::next).hasMessage("view ended");
    assertThat(source.next()).as("not advanced by a refused next").isEqualTo("b");
    it.close();
    assertThat(closes).hasValue(1);
  }
}
