package org.nestlm.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.io.AtomicFiles;
import org.nestlm.model.ConfigJson;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code demo.json} in the output directory: the plan the directory was made with, the corpus chosen, and every
 * completed stage with its wall time. A stage is skipped when it is recorded here, so a killed demo resumes; the
 * file is rewritten atomically after each stage.
 */
public final class DemoState {

    public static final String FILE = "demo.json";

    private final Path file;
    private final String plan;
    private List<String> corpus;
    private final Map<String, Double> done = new LinkedHashMap<>();

    private DemoState(Path file, String plan) {
        this.file = file;
        this.plan = plan;
    }

    /**
     * Opens (or starts) the state of {@code dir}.
     *
     * @throws IllegalArgumentException when the directory was made with another plan
     */
    public static DemoState open(Path dir, String plan) throws IOException {
        DemoState s = new DemoState(dir.resolve(FILE), plan);
        if (Files.isRegularFile(s.file)) {
            JsonNode o;
            try {
                o = ConfigJson.MAPPER.readTree(s.file.toFile());
            } catch (IOException e) {
                throw new IOException(s.file + ": not valid JSON: " + e.getMessage(), e);
            }
            String was = o.path("plan").asText("");
            if (!was.equals(plan)) {
                throw new IllegalArgumentException(s.file + ": this directory holds a '" + was + "' demo; run that plan again "
                        + "to resume it, or choose another --out");
            }
            if (o.path("corpus").isArray()) {
                s.corpus = new java.util.ArrayList<>();
                o.get("corpus").forEach(c -> s.corpus.add(c.asText()));
            }
            o.path("stages").fields().forEachRemaining(e -> s.done.put(e.getKey(), e.getValue().path("seconds").asDouble()));
        }
        return s;
    }

    public boolean isDone(String stage) {
        return done.containsKey(stage);
    }

    /** Completed stages with their seconds, in the order they completed. */
    public Map<String, Double> stages() {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(done));
    }

    public Double seconds(String stage) {
        return done.get(stage);
    }

    public List<String> corpus() {
        return corpus;
    }

    public void corpus(List<String> specs) throws IOException {
        corpus = List.copyOf(specs);
        save();
    }

    public void markDone(String stage, double seconds) throws IOException {
        done.put(stage, seconds);
        save();
    }

    private void save() throws IOException {
        ObjectNode o = ConfigJson.MAPPER.createObjectNode();
        o.put("plan", plan);
        if (corpus != null) {
            var a = o.putArray("corpus");
            corpus.forEach(a::add);
        }
        ObjectNode st = o.putObject("stages");
        done.forEach((k, v) -> st.putObject(k).put("seconds", v));
        AtomicFiles.writeString(file, ConfigJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
    }
}
