package io.cairn.config;

import static io.cairn.config.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cross-checks the line locator against night-config on one document full of awkward TOML: every
 * value night-config produces has an origin whose line really defines it.
 */
class TomlOriginsTest {
  @TempDir Path dir;

  private static final String DOC =
      """
      # header comment
      title = "t"   # trailing comment
      "quoted key" = 'literal'
      multi = \"\"\"
      [looks.like.a.table]
      key = "looks like a key"
      \"\"\"
      site."google.com" = true

      [owner]
      name = "Tom"
      dob = 1979-05-27T07:32:00-08:00

      [database]
      ports = [
        8000,
        8001, # comment ]
        8002,
      ]
      data = [ ["delta", "phi"], [3.14] ]
      temp_targets = { cpu = 79.5, case = 72.0 }

      [servers.alpha]
      ip = "10.0.0.1"

      [[products]]
      name = "Hammer"
      sku = 738594937

      [[products]]

      [[products]]
      name = "Nail"
      colour.primary = "grey"
      """;

  @Test
  void everyValueIsAttributedToItsDefiningLine() {
    Path f = write(dir, "doc.toml", DOC);
    String[] lines = DOC.split("\n", -1);
    ConfigObject root = CairnConfig.parseFile(f).root();
    List<String> checked = new ArrayList<>();
    walk(root, "", lines, f, checked);
    assertThat(checked)
        .contains(
            "title",
            "quoted key",
            "multi",
            "google.com",
            "dob",
            "ports[2]",
            "data[1][0]",
            "case",
            "ip",
            "sku",
            "primary");
  }

  private static void walk(
      ConfigValue value, String key, String[] lines, Path file, List<String> checked) {
    if (value instanceof ConfigObject object) {
      for (Map.Entry<String, ConfigValue> e : object.entrySet()) {
        walk(e.getValue(), e.getKey(), lines, file, checked);
      }
      return;
    }
    if (value instanceof ConfigList list) {
      for (int i = 0; i < list.size(); i++) {
        walk(list.get(i), key + "[" + i + "]", lines, file, checked);
      }
      return;
    }
    assertThat(value.origin().filename()).isEqualTo(file.toString());
    int line = value.origin().lineNumber();
    assertThat(line).as("line of %s", key).isBetween(1, lines.length);
    String text = lines[line - 1];
    if (key.contains("[")) {
      String rendered = value.unwrapped().toString();
      assertThat(text).as("line %d defines %s = %s", line, key, rendered).contains(rendered);
    } else {
      assertThat(text).as("line %d defines %s", line, key).contains(key);
    }
    checked.add(key);
  }
}
