package io.cairn.config;

import static io.cairn.config.TestFiles.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HOCON, JSON, TOML and properties describing the same settings give the same Config tree. */
class FormatEquivalenceTest {
  @TempDir Path dir;

  private static final String HOCON =
      """
      cairn {
        data-root = "var/data"
        default-backend = main
        backends {
          main { type = fixture, durability = full, cache-size = 256MiB }
          "odd.name" { type = fixture }
        }
      }
      app {
        retries = 3
        big = 9000000000
        ratio = 0.5
        enabled = true
        timeout = 30s
        tags = [a, b]
        servers = [ { host = h1, port = 1 }, { host = h2, port = 2 } ]
        matrix = [[1, 2], [3]]
        when = "1979-05-27T07:32:00Z"
        day = "1979-05-27"
      }
      """;

  private static final String JSON =
      """
      {
        "cairn": {
          "data-root": "var/data",
          "default-backend": "main",
          "backends": {
            "main": { "type": "fixture", "durability": "full", "cache-size": "256MiB" },
            "odd.name": { "type": "fixture" }
          }
        },
        "app": {
          "retries": 3,
          "big": 9000000000,
          "ratio": 0.5,
          "enabled": true,
          "timeout": "30s",
          "tags": ["a", "b"],
          "servers": [ { "host": "h1", "port": 1 }, { "host": "h2", "port": 2 } ],
          "matrix": [[1, 2], [3]],
          "when": "1979-05-27T07:32:00Z",
          "day": "1979-05-27"
        }
      }
      """;

  private static final String TOML =
      """
      [cairn]
      data-root = "var/data"
      default-backend = "main"

      [cairn.backends.main]
      type = "fixture"
      durability = "full"
      cache-size = "256MiB"

      [cairn.backends."odd.name"]
      type = "fixture"

      [app]
      retries = 3
      big = 9000000000
      ratio = 0.5
      enabled = true
      timeout = "30s"
      tags = ["a", "b"]
      matrix = [[1, 2], [3]]
      when = 1979-05-27T07:32:00Z
      day = 1979-05-27

      [[app.servers]]
      host = "h1"
      port = 1

      [[app.servers]]
      host = "h2"
      port = 2
      """;

  @Test
  void hoconJsonAndTomlGiveEqualTrees() {
    Config hocon = CairnConfig.parseFile(write(dir, "a.conf", HOCON));
    Config json = CairnConfig.parseFile(write(dir, "a.json", JSON));
    Config toml = CairnConfig.parseFile(write(dir, "a.toml", TOML));
    assertThat(json).isEqualTo(hocon);
    assertThat(toml).isEqualTo(hocon);
    // and after layering over reference.conf and resolving
    Config loadedHocon = CairnConfig.loadAndValidate(dir.resolve("a.conf"));
    assertThat(CairnConfig.loadAndValidate(dir.resolve("a.json"))).isEqualTo(loadedHocon);
    assertThat(CairnConfig.loadAndValidate(dir.resolve("a.toml"))).isEqualTo(loadedHocon);
    assertThat(loadedHocon.getDuration("app.timeout")).isEqualTo(Duration.ofSeconds(30));
    assertThat(loadedHocon.getBytes("cairn.backends.main.cache-size")).isEqualTo(256L << 20);
  }

  @Test
  void everyFormatCarriesFileAndLine() {
    Path toml = write(dir, "lines.toml", TOML);
    Config t = CairnConfig.parseFile(toml);
    assertLine(t.getValue("cairn.backends.main.durability"), toml, 7);
    assertLine(t.getValue("cairn.backends.\"odd.name\".type"), toml, 11);
    assertLine(t.getValue("app.when"), toml, 21);
    assertLine(t.getObjectList("app.servers").get(1).get("port"), toml, 30);
    assertLine(t.getList("app.matrix").get(1), toml, 20);

    Path json = write(dir, "lines.json", JSON);
    assertLine(CairnConfig.parseFile(json).getValue("app.ratio"), json, 13);

    Path props = write(dir, "lines.properties", "# c\ncairn.data-root=x\n\napp.a.b = \\\n  y\n");
    Config p = CairnConfig.parseFile(props);
    assertLine(p.getValue("cairn.data-root"), props, 2);
    assertLine(p.getValue("app.a.b"), props, 4);
    assertThat(p.getString("app.a.b")).isEqualTo("y");
  }

  @Test
  void propertiesGiveTheSameTreeWithStringValues() {
    Path props =
        write(
            dir,
            "p.properties",
            """
            cairn.data-root = var/data
            cairn.backends.main.type = fixture
            cairn.backends.main.durability = full
            cairn.backends.main.cache-size = 256MiB
            app.retries = 3
            app.timeout = 30s
            """);
    Path strings =
        write(
            dir,
            "strings.conf",
            """
            cairn.data-root = var/data
            cairn.backends.main { type = fixture, durability = full, cache-size = 256MiB }
            app { retries = "3", timeout = 30s }
            """);
    Config fromProperties = CairnConfig.loadAndValidate(props);
    assertThat(CairnConfig.parseFile(props)).isEqualTo(CairnConfig.parseFile(strings));
    assertThat(fromProperties).isEqualTo(CairnConfig.load(strings));
    // typed reads agree with a typed HOCON file
    Config typed = CairnConfig.parseFile(write(dir, "typed.conf", "app { retries = 3 }"));
    assertThat(fromProperties.getInt("app.retries")).isEqualTo(typed.getInt("app.retries"));
  }

  @Test
  void extensionIsCaseInsensitive() {
    Config upper = CairnConfig.parseFile(write(dir, "UPPER.TOML", TOML));
    assertThat(upper).isEqualTo(CairnConfig.parseFile(write(dir, "b.conf", HOCON)));
  }

  private static void assertLine(ConfigValue value, Path file, int line) {
    assertThat(value.origin().filename()).isEqualTo(file.toString());
    assertThat(value.origin().lineNumber()).isEqualTo(line);
  }
}
