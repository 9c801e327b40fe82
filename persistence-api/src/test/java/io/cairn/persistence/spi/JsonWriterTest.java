package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.BackendStats;
import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonWriterTest {
  @Test
  void oneLineWritesCompactJsonAndEscapesStrings() {
    StringBuilder out = new StringBuilder();
    JsonWriter.oneLine(out)
        .beginObject()
        .name("s")
        .value("a\"b\\c\n\t\u0001\u2028")
        .name("n")
        .value(-5)
        .name("t")
        .value(true)
        .name("null")
        .value((String) null)
        .name("a")
        .beginArray()
        .value(1)
        .beginObject()
        .endObject()
        .beginArray()
        .endArray()
        .endArray()
        .endObject()
        .finish();
    assertThat(out.toString())
        .isEqualTo(
            "{\"s\":\"a\\\"b\\\\c\\n\\t\\u0001\\u2028\",\"n\":-5,\"t\":true,\"null\":null,"
                + "\"a\":[1,{},[]]}\n");
  }

  @Test
  void indentedWritesTwoSpacesPerLevel() {
    StringBuilder out = new StringBuilder();
    JsonWriter.indented(out)
        .beginObject()
        .name("a")
        .beginArray()
        .value("x")
        .endArray()
        .name("b")
        .value(1)
        .endObject()
        .finish();
    assertThat(out.toString()).isEqualTo("{\n  \"a\" : [\n    \"x\"\n  ],\n  \"b\" : 1\n}\n");
  }

  @Test
  void refusesAnUnfinishedDocumentAndAnEndWithoutABegin() {
    JsonWriter w = JsonWriter.oneLine(new StringBuilder()).beginObject();
    assertThatThrownBy(w::finish).isInstanceOf(IllegalStateException.class);
    JsonWriter empty = JsonWriter.oneLine(new StringBuilder());
    assertThatThrownBy(empty::endArray).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> empty.name("x")).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void backendStatsDocumentListsStoresAndSortedProperties() {
    StorageBackend backend =
        (StorageBackend)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {StorageBackend.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("durability")) {
                    return Durability.FULL;
                  }
                  throw new UnsupportedOperationException(method.getName());
                });
    BackendStats stats =
        new BackendStats(
            "main",
            "sqlite",
            List.of(
                new StoreStats(new StoreId(StoreKind.KEY_VALUE, "users"), 3, 120),
                new StoreStats(new StoreId(StoreKind.LOG, "events"), -1, -1)),
            4096,
            Map.of("z", "2", "a", "1"));
    StringBuilder out = new StringBuilder();
    JsonWriter w = JsonWriter.oneLine(out);
    BackendStatsJson.write(w, backend, stats);
    assertThat(out.toString())
        .isEqualTo(
            "{\"name\":\"main\",\"type\":\"sqlite\",\"durability\":\"full\",\"diskBytes\":4096,"
                + "\"stores\":[{\"kind\":\"kv\",\"name\":\"users\",\"entries\":3,\"bytes\":120},"
                + "{\"kind\":\"log\",\"name\":\"events\",\"entries\":-1,\"bytes\":-1}],"
                + "\"properties\":{\"a\":\"1\",\"z\":\"2\"}}");
  }
}
