package io.cairn.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Known-good bytes of the documented formats, so a change of layout cannot slip in unnoticed. */
class RouteFormatTest {
  private static final Route ROUTE =
      Route.builder("/a")
          .target("h", 5)
          .policy(Route.Policy.ROUND_ROBIN)
          .metadata("k", "v")
          .build();

  @Test
  void putRecordBytes() {
    assertThat(HexFormat.of().formatHex(RouteFormat.encodePut(ROUTE)))
        .isEqualTo(
            "01" // format
                + "01" // put
                + "00000002"
                + "2f61" // key "/a"
                + "0000000b"
                + "524f554e445f524f42494e" // "ROUND_ROBIN"
                + "00000001"
                + "00000001"
                + "68"
                + "00000005" // one target "h", weight 5
                + "00000001"
                + "00000001"
                + "6b"
                + "00000001"
                + "76"); // metadata k=v
  }

  @Test
  void removeRecordBytesAndRoundTrip() throws Exception {
    assertThat(HexFormat.of().formatHex(RouteFormat.encodeRemove("/a")))
        .isEqualTo("0102000000022f61");
    RouteFormat.Change put = RouteFormat.decodeChange(RouteFormat.encodePut(ROUTE), 7);
    assertThat(put.route()).isEqualTo(ROUTE.withVersion(7));
    RouteFormat.Change remove = RouteFormat.decodeChange(RouteFormat.encodeRemove("/a"), 8);
    assertThat(remove).isEqualTo(new RouteFormat.Change("/a", null));
  }

  @Test
  void badRecordsAreRejected() {
    byte[] good = RouteFormat.encodePut(ROUTE);
    byte[] newer = good.clone();
    newer[0] = 2;
    assertThatThrownBy(() -> RouteFormat.decodeChange(newer, 1))
        .isInstanceOf(RouteFormat.Corrupt.class)
        .hasMessageContaining("format version 2");
    byte[] shortened = java.util.Arrays.copyOf(good, good.length - 1);
    assertThatThrownBy(() -> RouteFormat.decodeChange(shortened, 1))
        .hasMessageContaining("ends in the middle");
    byte[] longer = java.util.Arrays.copyOf(good, good.length + 1);
    assertThatThrownBy(() -> RouteFormat.decodeChange(longer, 1))
        .hasMessageContaining("trailing bytes");
    byte[] huge = RouteFormat.encodeRemove("/a");
    huge[2] = 0x7f;
    assertThatThrownBy(() -> RouteFormat.decodeChange(huge, 1)).hasMessageContaining("length");
  }

  @Test
  void snapshotRoundTripAndHeader() throws Exception {
    Map<String, Route> routes = new TreeMap<>();
    routes.put("/a", ROUTE.withVersion(3));
    routes.put("/b", Route.of("/b", "x").withVersion(9));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    RouteFormat.writeSnapshot(out, 10, routes);
    byte[] bytes = out.toByteArray();
    assertThat(HexFormat.of().formatHex(bytes, 0, 21))
        .isEqualTo("43525453" + "01" + "000000000000000a" + "0000000000000002");

    Map<String, Route> read = new LinkedHashMap<>();
    assertThat(RouteFormat.readSnapshot(new ByteArrayInputStream(bytes), 10, read::put))
        .isEqualTo(10);
    assertThat(read).isEqualTo(routes);

    assertThatThrownBy(
            () -> RouteFormat.readSnapshot(new ByteArrayInputStream(bytes), 11, (k, v) -> {}))
        .hasMessageContaining("stored as version 11");
    byte[] flipped = bytes.clone();
    flipped[30] ^= 0x40;
    assertThatThrownBy(
            () -> RouteFormat.readSnapshot(new ByteArrayInputStream(flipped), 10, (k, v) -> {}))
        .isInstanceOf(RouteFormat.Corrupt.class);
  }
}
