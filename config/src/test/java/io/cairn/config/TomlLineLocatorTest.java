package io.cairn.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The TOML line locator on the constructs that could mislead a line-based scan. */
class TomlLineLocatorTest {
  private static Map<List<Object>, Integer> locate(String text) {
    return TomlLineLocator.locate(text);
  }

  @Test
  void tablesDottedKeysAndQuotedKeys() {
    Map<List<Object>, Integer> lines =
        locate(
            """
            top = 1
            [a.b]
            c = 2
            d.e = 3
            "quoted.key" = 4
            'lit' = 5
            [a."x y".z]
            w = "\\u00e9"
            """);
    assertThat(lines)
        .containsEntry(List.of("top"), 1)
        .containsEntry(List.of("a"), 2)
        .containsEntry(List.of("a", "b"), 2)
        .containsEntry(List.of("a", "b", "c"), 3)
        .containsEntry(List.of("a", "b", "d"), 4)
        .containsEntry(List.of("a", "b", "d", "e"), 4)
        .containsEntry(List.of("a", "b", "quoted.key"), 5)
        .containsEntry(List.of("a", "b", "lit"), 6)
        .containsEntry(List.of("a", "x y"), 7)
        .containsEntry(List.of("a", "x y", "z", "w"), 8);
  }

  @Test
  void explicitHeaderAfterImplicitTableWins() {
    Map<List<Object>, Integer> lines = locate("[a.b.c]\nx = 1\n[a.b]\ny = 2\n");
    assertThat(lines).containsEntry(List.of("a", "b"), 3).containsEntry(List.of("a"), 1);
  }

  @Test
  void textInsideStringsIsNotMistakenForKeysOrTables() {
    Map<List<Object>, Integer> lines =
        locate(
            """
            s = \"\"\"
            [not.a.table]
            fake = "value"
            \\\"\"\"
            still = inside\"\"\"
            t = '''
            [nor.this]
            '''
            u = "with # hash and = sign"
            v = 1 # comment [x]
            """);
    assertThat(lines)
        .containsEntry(List.of("s"), 1)
        .containsEntry(List.of("t"), 6)
        .containsEntry(List.of("u"), 9)
        .containsEntry(List.of("v"), 10)
        .doesNotContainKeys(List.of("not"), List.of("fake"), List.of("still"), List.of("nor"));
  }

  @Test
  void arraysOfTablesAndNestedArrays() {
    Map<List<Object>, Integer> lines =
        locate(
            """
            [[fruit]]
            name = "apple"
            [fruit.physical]
            color = "red"
            [[fruit.variety]]
            name = "fuji"
            [[fruit]]
            name = "banana"
            [[fruit.variety]]
            name = "plantain"
            """);
    assertThat(lines)
        .containsEntry(List.of("fruit"), 1)
        .containsEntry(List.of("fruit", 0), 1)
        .containsEntry(List.of("fruit", 0, "name"), 2)
        .containsEntry(List.of("fruit", 0, "physical", "color"), 4)
        .containsEntry(List.of("fruit", 0, "variety", 0, "name"), 6)
        .containsEntry(List.of("fruit", 1), 7)
        .containsEntry(List.of("fruit", 1, "name"), 8)
        .containsEntry(List.of("fruit", 1, "variety", 0, "name"), 10);
  }

  @Test
  void multiLineArraysAndInlineTables() {
    Map<List<Object>, Integer> lines =
        locate(
            """
            servers = [
              { host = "h1", port = 1 },  # first
              # a comment line ]
              { host = "h2",
                port = 2 },
            ]
            after = [ [1, 2], ["]", 'x'] ]
            when = 1979-05-27 07:32:00Z
            next = true
            """);
    assertThat(lines)
        .containsEntry(List.of("servers"), 1)
        .containsEntry(List.of("servers", 0), 2)
        .containsEntry(List.of("servers", 0, "port"), 2)
        .containsEntry(List.of("servers", 1), 4)
        .containsEntry(List.of("servers", 1, "host"), 4)
        .containsEntry(List.of("servers", 1, "port"), 5)
        .containsEntry(List.of("after", 1, 1), 7)
        .containsEntry(List.of("when"), 8)
        .containsEntry(List.of("next"), 9);
  }

  @Test
  void crlfLineEndings() {
    assertThat(locate("a = 1\r\n[t]\r\nb = 2\r\n")).containsEntry(List.of("t", "b"), 3);
  }
}
