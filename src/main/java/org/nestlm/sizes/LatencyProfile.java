package org.nestlm.sizes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.io.AtomicFiles;
import org.nestlm.model.ConfigJson;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Measured decode latency per size of one checkpoint, stored next to it as {@code latency.json} by
 * {@code nestlm bench decode}. Decode is bound by reading the weights once per token, so its latency is close to
 * linear in the parameters read; sizes that were not measured are estimated by piecewise-linear interpolation in
 * parameters between the measured ones (linear extrapolation from the nearest segment outside them, and
 * proportional scaling when only one size was measured). Only measurements at the same thread count are used:
 * latency at 4 threads says little about 16.
 *
 * <pre>
 * {"format": "nestlm-latency", "version": 1,
 *  "points": [{"budget": "50%", "parameters": 135736, "threads": 8, "dtype": "BF16",
 *              "ms_per_token": 0.41, "decode_tokens": 128, "measured_at": "2025-…"}, …]}
 * </pre>
 */
public record LatencyProfile(List<Point> points) {

    public static final String FILE_NAME = "latency.json";
    static final String FORMAT = "nestlm-latency";
    static final int VERSION = 1;

    /**
     * One measurement.
     *
     * @param budget     the size measured ({@code "100%"} for the whole checkpoint)
     * @param parameters its exact parameter count
     * @param threads    compute threads of the measurement
     * @param dtype      weight dtype of the checkpoint
     * @param msPerToken mean decode latency, ms per token (batch 1)
     * @param tokens     tokens decoded for the mean
     * @param measuredAt ISO-8601 time of the measurement
     */
    public record Point(String budget, long parameters, int threads, String dtype, double msPerToken, int tokens,
                        String measuredAt) {
        public Point {
            if (parameters < 1 || threads < 1 || !(msPerToken > 0) || Double.isInfinite(msPerToken)) {
                throw new IllegalArgumentException("latency point needs parameters ≥ 1, threads ≥ 1 and ms_per_token > 0");
            }
        }
    }

    public LatencyProfile {
        points = List.copyOf(points);
    }

    public static Path file(Path dir) {
        return dir.resolve(FILE_NAME);
    }

    /**
     * Reads {@code dir/latency.json}.
     *
     * @throws NoSuchFileException saying how to create it when it is absent
     * @throws IOException         naming the file and field when it is malformed
     */
    public static LatencyProfile read(Path dir) throws IOException {
        Path f = file(dir);
        if (!Files.isRegularFile(f)) {
            throw new NoSuchFileException(f + ": no latency profile; measure one with 'nestlm bench decode --model "
                    + dir + " --all-sizes'");
        }
        JsonNode o;
        try {
            o = ConfigJson.MAPPER.readTree(f.toFile());
        } catch (IOException e) {
            throw new IOException(f + ": not valid JSON: " + e.getMessage(), e);
        }
        if (o == null || !o.isObject() || !FORMAT.equals(o.path("format").asText())) {
            throw new IOException(f + ": field 'format' must be \"" + FORMAT + "\"");
        }
        if (o.path("version").asInt(-1) != VERSION) {
            throw new IOException(f + ": field 'version' must be " + VERSION + ", got " + o.get("version"));
        }
        JsonNode pts = o.get("points");
        if (pts == null || !pts.isArray()) {
            throw new IOException(f + ": field 'points' must be an array");
        }
        List<Point> out = new ArrayList<>();
        for (int i = 0; i < pts.size(); i++) {
            JsonNode p = pts.get(i);
            String at = f + ": points[" + i + "]";
            try {
                out.add(new Point(text(p, "budget", at), integer(p, "parameters", at), (int) integer(p, "threads", at),
                        text(p, "dtype", at), number(p, "ms_per_token", at), (int) integer(p, "decode_tokens", at),
                        p.path("measured_at").asText("")));
            } catch (IllegalArgumentException e) {
                throw new IOException(at + ": " + e.getMessage(), e);
            }
        }
        return new LatencyProfile(out);
    }

    /** Like {@link #read} but an absent file is an empty profile. */
    public static LatencyProfile readOrEmpty(Path dir) throws IOException {
        return Files.isRegularFile(file(dir)) ? read(dir) : new LatencyProfile(List.of());
    }

    /**
     * Adds a measurement to {@code dir/latency.json}, replacing an earlier one of the same size, threads and dtype,
     * and writes the file atomically (readers see the old or the new profile, never a torn one). Two benchmarks
     * recording at the same moment may lose one of the two updates; neither corrupts the file.
     */
    public static LatencyProfile record(Path dir, Point p) throws IOException {
        List<Point> kept = new ArrayList<>();
        for (Point q : readOrEmpty(dir).points()) {
            if (!(q.parameters() == p.parameters() && q.threads() == p.threads() && q.dtype().equals(p.dtype()))) {
                kept.add(q);
            }
        }
        kept.add(p);
        kept.sort(Comparator.comparingInt(Point::threads).thenComparing(Comparator.comparingLong(Point::parameters).reversed()));
        LatencyProfile profile = new LatencyProfile(kept);
        profile.write(dir);
        return profile;
    }

    /** Writes {@code dir/latency.json} atomically. */
    public void write(Path dir) throws IOException {
        ObjectNode o = ConfigJson.MAPPER.createObjectNode();
        o.put("format", FORMAT);
        o.put("version", VERSION);
        ArrayNode a = o.putArray("points");
        for (Point p : points) {
            a.addObject().put("budget", p.budget()).put("parameters", p.parameters()).put("threads", p.threads())
                    .put("dtype", p.dtype()).put("ms_per_token", p.msPerToken()).put("decode_tokens", p.tokens())
                    .put("measured_at", p.measuredAt());
        }
        AtomicFiles.writeString(file(dir), ConfigJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
    }

    /** The thread counts measured. */
    public TreeSet<Integer> threadCounts() {
        TreeSet<Integer> t = new TreeSet<>();
        points.forEach(p -> t.add(p.threads()));
        return t;
    }

    /**
     * Estimated decode latency (ms per token) of a size of {@code parameters} at {@code threads}: the measurement
     * itself when that size was measured (the mean of repeats), else piecewise-linear in parameters.
     *
     * @throws IllegalArgumentException when nothing was measured at {@code threads}, naming the counts measured
     */
    public double estimateMs(long parameters, int threads) {
        List<Point> at = new ArrayList<>(points.stream().filter(p -> p.threads() == threads).toList());
        if (at.isEmpty()) {
            throw new IllegalArgumentException(FILE_NAME + " has no measurement at " + threads + " threads"
                    + (points.isEmpty() ? "" : " (it has " + threadCounts() + ")") + "; run 'nestlm bench decode --all-sizes --threads "
                    + threads + "'");
        }
        // one value per size: the mean of its measurements
        java.util.TreeMap<Long, double[]> bySize = new java.util.TreeMap<>();
        for (Point p : at) {
            double[] s = bySize.computeIfAbsent(p.parameters(), k -> new double[2]);
            s[0] += p.msPerToken();
            s[1]++;
        }
        long[] x = bySize.keySet().stream().mapToLong(Long::longValue).toArray();
        double[] y = bySize.values().stream().mapToDouble(s -> s[0] / s[1]).toArray();
        if (x.length == 1) {
            return y[0] * parameters / x[0];
        }
        int hi = 1;
        while (hi < x.length - 1 && x[hi] < parameters) {
            hi++;
        }
        int lo = hi - 1;
        double t = (double) (parameters - x[lo]) / (x[hi] - x[lo]);
        return Math.max(0, y[lo] + t * (y[hi] - y[lo]));
    }

    /** "0.412 ms/token (latency.json, 8 threads)" */
    public static String describe(double ms, int threads) {
        return String.format(Locale.ROOT, "%.3f ms/token (%s, %d threads)", ms, FILE_NAME, threads);
    }

    private static String text(JsonNode p, String field, String at) {
        JsonNode n = p.get(field);
        if (n == null || !n.isTextual()) {
            throw new IllegalArgumentException("field '" + field + "' must be a string");
        }
        return n.asText();
    }

    private static long integer(JsonNode p, String field, String at) {
        JsonNode n = p.get(field);
        if (n == null || !n.isIntegralNumber()) {
            throw new IllegalArgumentException("field '" + field + "' must be an integer");
        }
        return n.asLong();
    }

    private static double number(JsonNode p, String field, String at) {
        JsonNode n = p.get(field);
        if (n == null || !n.isNumber()) {
            throw new IllegalArgumentException("field '" + field + "' must be a number");
        }
        return n.asDouble();
    }
}
