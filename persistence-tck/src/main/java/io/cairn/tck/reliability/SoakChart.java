package io.cairn.tck.reliability;

import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;

/**
 * Draws a {@link SoakReport} as one PNG of four panels over time (minutes): heap of the writing
 * process, files in the data directory, data and WAL size, recovery time per kill. Uses XChart,
 * which the TCK declares {@code provided}: add {@code org.knowm.xchart:xchart} to the test class
 * path (the {@code soak} profile does) to call it.
 */
public final class SoakChart {
  private static final int W = 640;
  private static final int H = 400;

  private SoakChart() {}

  /** Writes the chart to {@code png}. */
  public static void write(SoakReport report, Path png) throws IOException {
    List<SoakRun.Sample> s = report.samples();
    double[] t = s.stream().mapToDouble(x -> x.atMillis() / 60000.0).toArray();
    XYChart heap = chart("Heap of the writing JVM", "MiB");
    add(heap, "used", t, s.stream().mapToDouble(x -> x.heapUsedBytes() / 1048576.0).toArray());
    add(
        heap,
        "after last GC",
        t,
        s.stream().mapToDouble(x -> x.heapAfterGcBytes() / 1048576.0).toArray());
    XYChart files = chart("Files in the data directory", "files");
    add(files, "files", t, s.stream().mapToDouble(SoakRun.Sample::files).toArray());
    XYChart size = chart("Data directory and WAL size", "MiB");
    add(size, "all files", t, s.stream().mapToDouble(x -> x.dataBytes() / 1048576.0).toArray());
    add(size, "WAL", t, s.stream().mapToDouble(x -> x.walBytes() / 1048576.0).toArray());
    XYChart rec = chart("Recovery time after each kill -9", "ms");
    List<SoakRun.Cycle> c = report.cycles();
    XYSeries r =
        add(
            rec,
            "reopen",
            c.stream().mapToDouble(x -> x.atMillis() / 60000.0).toArray(),
            c.stream().mapToDouble(SoakRun.Cycle::recoveryMillis).toArray());
    r.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    BufferedImage all = new BufferedImage(2 * W, 2 * H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = all.createGraphics();
    XYChart[] charts = {heap, files, size, rec};
    for (int i = 0; i < charts.length; i++) {
      g.drawImage(BitmapEncoder.getBufferedImage(charts[i]), (i % 2) * W, (i / 2) * H, null);
    }
    g.dispose();
    ImageIO.write(all, "png", png.toFile());
  }

  private static XYChart chart(String title, String yTitle) {
    XYChart chart =
        new XYChartBuilder()
            .width(W)
            .height(H)
            .title(title)
            .xAxisTitle("minutes")
            .yAxisTitle(yTitle)
            .build();
    chart.getStyler().setMarkerSize(4);
    chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNW);
    return chart;
  }

  private static XYSeries add(XYChart chart, String name, double[] x, double[] y) {
    if (x.length == 0) {
      return chart.addSeries(name, new double[] {0}, new double[] {0});
    }
    return chart.addSeries(name, x, y);
  }
}
