package dev.diffustream.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** A small line chart written as PNG with Java2D (no plotting dependency, works headless). */
final class LinePlot {
    private LinePlot() {}

    /** One line: x and y of the same length. */
    record Series(String name, double[] x, double[] y) {}

    private static final Color[] COLORS = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e)
    };

    static void write(Path png, String title, String xLabel, String yLabel, List<Series> series)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        int w = 900, h = 520, left = 80, right = 30, top = 50, bottom = 70;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, w, h);
            double minX = Double.POSITIVE_INFINITY, maxX = Double.NEGATIVE_INFINITY;
            double minY = Double.POSITIVE_INFINITY, maxY = Double.NEGATIVE_INFINITY;
            for (Series s : series) {
                for (int i = 0; i < s.x().length; i++) {
                    minX = Math.min(minX, s.x()[i]);
                    maxX = Math.max(maxX, s.x()[i]);
                    minY = Math.min(minY, s.y()[i]);
                    maxY = Math.max(maxY, s.y()[i]);
                }
            }
            if (!Double.isFinite(minX)) {
                minX = 0;
                maxX = 1;
                minY = 0;
                maxY = 1;
            }
            if (maxX - minX < 1e-9) {
                maxX = minX + 1;
            }
            double pad = (maxY - minY) * 0.08;
            if (pad < 1e-9) {
                pad = Math.max(1e-3, Math.abs(maxY) * 0.1);
            }
            minY -= pad;
            maxY += pad;
            int pw = w - left - right, ph = h - top - bottom;
            g.setColor(new Color(0xeeeeee));
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            FontMetrics fm = g.getFontMetrics();
            for (int i = 0; i <= 5; i++) {
                int y = top + ph - i * ph / 5;
                g.setColor(new Color(0xeeeeee));
                g.drawLine(left, y, left + pw, y);
                g.setColor(Color.DARK_GRAY);
                String label = String.format(Locale.ROOT, "%.3g", minY + i * (maxY - minY) / 5);
                g.drawString(label, left - 8 - fm.stringWidth(label), y + 4);
                int x = left + i * pw / 5;
                String xl = String.format(Locale.ROOT, "%.0f", minX + i * (maxX - minX) / 5);
                g.drawString(xl, x - fm.stringWidth(xl) / 2, top + ph + 18);
            }
            g.setColor(Color.BLACK);
            g.drawRect(left, top, pw, ph);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.drawString(title, left, top - 20);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            g.drawString(
                    xLabel, left + pw / 2 - g.getFontMetrics().stringWidth(xLabel) / 2, h - 25);
            g.rotate(-Math.PI / 2);
            g.drawString(yLabel, -(top + ph / 2 + g.getFontMetrics().stringWidth(yLabel) / 2), 20);
            g.rotate(Math.PI / 2);
            int legendY = top + 16;
            for (int s = 0; s < series.size(); s++) {
                Series ser = series.get(s);
                g.setColor(COLORS[s % COLORS.length]);
                g.setStroke(new BasicStroke(2f));
                int px = -1, py = -1;
                for (int i = 0; i < ser.x().length; i++) {
                    int x = left + (int) Math.round((ser.x()[i] - minX) / (maxX - minX) * pw);
                    int y = top + ph - (int) Math.round((ser.y()[i] - minY) / (maxY - minY) * ph);
                    if (px >= 0) {
                        g.drawLine(px, py, x, y);
                    }
                    g.fillOval(x - 3, y - 3, 6, 6);
                    px = x;
                    py = y;
                }
                g.drawLine(left + pw - 160, legendY - 4, left + pw - 140, legendY - 4);
                g.setColor(Color.BLACK);
                g.drawString(ser.name(), left + pw - 134, legendY);
                legendY += 18;
            }
        } finally {
            g.dispose();
        }
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(img, "png", png.toFile());
    }
}
