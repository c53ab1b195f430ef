package org.nestlm.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.io.AtomicFiles;
import org.nestlm.model.ConfigJson;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code log.jsonl}: one JSON object per logged step ({@code {"step", "tokens", "lr", "loss", "grad_norm",
 * "tokens_per_s"}}, validation entries add {@code "val_loss", "val_ppl", "val_bpb"}), and the loss curve
 * {@code loss.png} drawn from it. On resume the log is cut back to the checkpoint's step, so it never holds
 * steps that the resumed run repeats.
 */
public final class TrainLog {

    /**
     * Fields that measure the machine, not the run (throughput): the only ones in which two runs of the same command
     * may differ (docs/REPRODUCIBILITY.md §2).
     */
    public static final java.util.Set<String> TIMING_FIELDS = java.util.Set.of("tokens_per_s");


    private final Path file;
    private final List<JsonNode> entries = new ArrayList<>();

    public TrainLog(Path dir) throws IOException {
        this.file = dir.resolve("log.jsonl");
        if (Files.exists(file)) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) {
                    continue;
                }
                try {
                    entries.add(ConfigJson.MAPPER.readTree(lines.get(i)));
                } catch (JsonProcessingException e) {
                    if (i < lines.size() - 1) {
                        throw new IOException(file + ": line " + (i + 1) + " is not JSON: " + e.getOriginalMessage(), e);
                    }
                    // the last line, cut short by a kill while it was appended: the resume repeats that step
                }
            }
        }
    }

    /** Drops entries after {@code step} (they belong to work lost after the last checkpoint); 0 empties the log. */
    public void truncateAfter(int step) throws IOException {
        entries.removeIf(e -> e.get("step").asInt() > step);
        StringBuilder sb = new StringBuilder();
        for (JsonNode e : entries) {
            sb.append(ConfigJson.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(e)).append('\n');
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    public void append(ObjectNode entry) throws IOException {
        entries.add(entry);
        String line = ConfigJson.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(entry) + "\n";
        Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    public List<JsonNode> entries() {
        return List.copyOf(entries);
    }

    /** Training loss of every logged step, in order. */
    public List<Double> trainLosses() {
        List<Double> out = new ArrayList<>();
        for (JsonNode e : entries) {
            if (e.has("loss")) {
                out.add(e.get("loss").asDouble());
            }
        }
        return out;
    }

    /** Writes {@code loss.png}: training and validation loss against tokens seen. */
    public void plot(Path png, String title) throws IOException {
        List<Double> tx = new ArrayList<>(), ty = new ArrayList<>(), vx = new ArrayList<>(), vy = new ArrayList<>();
        for (JsonNode e : entries) {
            if (e.has("loss")) {
                tx.add(e.get("tokens").asDouble());
                ty.add(e.get("loss").asDouble());
            }
            if (e.has("val_loss")) {
                vx.add(e.get("tokens").asDouble());
                vy.add(e.get("val_loss").asDouble());
            }
        }
        Map<String, Charts.Series> series = new LinkedHashMap<>();
        series.put("train", new Charts.Series(tx, ty, false));
        series.put("validation", new Charts.Series(vx, vy, true));
        Charts.lines(png, title, "tokens", "loss (nats / token)", series);
    }
}
