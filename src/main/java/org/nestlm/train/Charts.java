package org.nestlm.train;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.nestlm.io.AtomicFiles;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Line charts as PNG files (XChart, headless), written atomically. */
public final class Charts {

    private Charts() {
    }

    /**
     * One named series: x and y values of equal length; {@code markers} draws points instead of a bare line;
     * {@code errors}, when not null, the half-height of an error bar at each point.
     */
    public record Series(List<Double> x, List<Double> y, boolean markers, List<Double> errors) {

        public Series(List<Double> x, List<Double> y, boolean markers) {
            this(x, y, markers, null);
        }
    }

    public static void lines(Path png, String title, String xTitle, String yTitle, Map<String, Series> series) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(800).height(500).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        boolean any = false;
        for (Map.Entry<String, Series> e : series.entrySet()) {
            if (e.getValue().x().isEmpty()) {
                continue;
            }
            Series v = e.getValue();
            (v.errors() == null ? chart.addSeries(e.getKey(), v.x(), v.y()) : chart.addSeries(e.getKey(), v.x(), v.y(), v.errors()))
                    .setMarker(e.getValue().markers() ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
            any = true;
        }
        if (!any) {
            return;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BitmapEncoder.saveBitmap(chart, bytes, BitmapEncoder.BitmapFormat.PNG);
        AtomicFiles.writeBytes(png, bytes.toByteArray());
    }
}
