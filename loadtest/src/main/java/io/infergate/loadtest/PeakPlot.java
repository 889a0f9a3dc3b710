package io.infergate.loadtest;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Draws a peak-throughput sweep (the CSV that {@code loadtest/peak.sh} writes) as a PNG:
 * achieved requests per second on x, P50 (solid) and P99 (dashed) latency on y, one colour per
 * target, points joined in sweep order (rising load), so each curve shows where latency turns
 * up, and throughput turns back, as the server saturates.
 *
 * <p>Run: {@code java -cp loadtest/target/classes io.infergate.loadtest.PeakPlot sweep.csv sweep.png [MAX_MS]};
 * with {@code MAX_MS} the latency axis ends there and points above it sit on its top edge, so
 * that one target's seconds do not flatten the others' milliseconds.
 */
public final class PeakPlot {

  private static final int WIDTH = 1200;
  private static final int HEIGHT = 700;
  private static final int LEFT = 90;
  private static final int RIGHT = 330;
  private static final int TOP = 60;
  private static final int BOTTOM = 70;
  private static final Color[] COLOURS = {
      new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
      new Color(0x9467bd), new Color(0x8c564b)};

  /** One measured point of one target. */
  record Point(double rps, double p50, double p99) {}

  public static void main(String[] args) throws IOException {
    if (args.length < 2 || args.length > 3) {
      System.err.println("usage: PeakPlot <sweep.csv> <out.png> [max_ms]");
      System.exit(2);
    }
    Map<String, List<Point>> series = read(Path.of(args[0]));
    double maxMs = args.length == 3 ? Double.parseDouble(args[2]) : 0;
    ImageIO.write(draw(series, Path.of(args[0]).getFileName().toString(), maxMs), "png", Path.of(args[1]).toFile());
  }

  /** Columns: target,level,requests_per_s,p50_ms,p99_ms,... (a header line first). */
  static Map<String, List<Point>> read(Path csv) throws IOException {
    Map<String, List<Point>> series = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(csv);
    for (String line : lines.subList(1, lines.size())) {
      String[] cells = line.split(",");
      if (cells.length < 5 || cells[2].isEmpty()) {
        continue;
      }
      series.computeIfAbsent(cells[0], k -> new ArrayList<>()).add(new Point(
          Double.parseDouble(cells[2]), Double.parseDouble(cells[3]), Double.parseDouble(cells[4])));
    }
    return series;
  }

  /** @param axisMs where the latency axis ends; 0 = just above the highest P99 */
  static BufferedImage draw(Map<String, List<Point>> series, String title, double axisMs) {
    double maxRps = series.values().stream().flatMap(List::stream).mapToDouble(Point::rps).max().orElse(1) * 1.05;
    double maxMs = axisMs > 0 ? axisMs
        : Math.max(1, series.values().stream().flatMap(List::stream).mapToDouble(Point::p99).max().orElse(1) * 1.1);
    BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, WIDTH, HEIGHT);
    int plotW = WIDTH - LEFT - RIGHT;
    int plotH = HEIGHT - TOP - BOTTOM;
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    for (int i = 0; i <= 5; i++) {
      int x = LEFT + plotW * i / 5;
      int y = TOP + plotH - plotH * i / 5;
      g.setColor(new Color(0xe0e0e0));
      g.drawLine(x, TOP, x, TOP + plotH);
      g.drawLine(LEFT, y, LEFT + plotW, y);
      g.setColor(Color.DARK_GRAY);
      g.drawString(String.format(Locale.ROOT, "%,.0f", maxRps * i / 5), x - 20, TOP + plotH + 20);
      g.drawString(String.format(Locale.ROOT, "%.1f", maxMs * i / 5), LEFT - 45, y + 5);
    }
    g.setColor(Color.BLACK);
    g.drawRect(LEFT, TOP, plotW, plotH);
    g.drawString("achieved requests per second", LEFT + plotW / 2 - 90, HEIGHT - 25);
    g.drawString("latency (ms): P50 solid, P99 dashed", 10, TOP - 15);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(title, LEFT + plotW / 2 - 60, 25);
    int colour = 0;
    int legendY = TOP + 10;
    for (Map.Entry<String, List<Point>> entry : series.entrySet()) {
      Color c = COLOURS[colour++ % COLOURS.length];
      g.setColor(c);
      line(g, entry.getValue(), true, maxRps, maxMs, plotW, plotH);
      line(g, entry.getValue(), false, maxRps, maxMs, plotW, plotH);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
      g.fillRect(LEFT + plotW + 15, legendY - 9, 12, 12);
      g.setColor(Color.BLACK);
      double peak = entry.getValue().stream().mapToDouble(Point::rps).max().orElse(0);
      g.drawString(String.format(Locale.ROOT, "%s (peak %,.0f/s)", entry.getKey(), peak), LEFT + plotW + 32, legendY + 2);
      legendY += 22;
    }
    g.dispose();
    return image;
  }

  private static void line(Graphics2D g, List<Point> points, boolean p50, double maxRps, double maxMs, int w, int h) {
    g.setStroke(p50 ? new BasicStroke(2.2f)
        : new BasicStroke(2.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1, new float[] {7, 5}, 0));
    int prevX = -1;
    int prevY = -1;
    for (Point point : points) {
      int x = LEFT + (int) (w * point.rps() / maxRps);
      int y = TOP + h - (int) (h * Math.min(maxMs, p50 ? point.p50() : point.p99()) / maxMs);
      g.fillOval(x - 3, y - 3, 6, 6);
      if (prevX >= 0) {
        g.drawLine(prevX, prevY, x, y);
      }
      prevX = x;
      prevY = y;
    }
  }
}
