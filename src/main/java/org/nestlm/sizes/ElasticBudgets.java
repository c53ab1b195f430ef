package org.nestlm.sizes;

import com.fasterxml.jackson.databind.JsonNode;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Turns what a user asks for ({@code --budget 50%}, {@code --config FILE}) into a {@link Subnet} of an elastic
 * checkpoint. Trained budgets come straight from {@code elastic.json} (no libtorch needed, so the pure-Java
 * commands stay light); any other budget in the trained range goes through the router ({@link ElasticModel}).
 */
public final class ElasticBudgets {

    private ElasticBudgets() {
    }

    /** True when {@code dir} holds an {@code elastic.json}. */
    public static boolean isElastic(Path dir) {
        return Files.isRegularFile(dir.resolve(ElasticJson.FILE_NAME));
    }

    /** The trained budgets of an elastic checkpoint, as stored (largest first when written that way). */
    public static List<TrainedBudget> trained(Path dir, Architecture full) throws IOException {
        return ElasticJson.read(dir, full).budgets();
    }

    /**
     * Resolves a budget: a stored trained budget with the same parameter target, the full model for 100 %,
     * else the router's interpolation.
     *
     * @throws IOException naming elastic.json when the checkpoint is not elastic or the file is invalid
     */
    public static TrainedBudget resolve(Path dir, Architecture full, String budgetText) throws IOException {
        Budget b = Budget.parse(budgetText);
        long fullParams = full.parameterCount();
        long target = b.target(fullParams);
        ElasticJson.Metadata meta = ElasticJson.read(dir, full);
        for (TrainedBudget t : meta.budgets()) {
            if (t.target() == target || t.budget().equals(budgetText)) {
                return t;
            }
        }
        if (target == fullParams) {
            return new TrainedBudget(budgetText, target, Subnet.full(full), fullParams, false);
        }
        try (ElasticModel em = ElasticModel.open(dir)) {
            return em.resolve(b);
        }
    }

    /**
     * A user-given sub-model (mix-and-match): a JSON file holding {@code {"hidden_size": …, "layers": [{"type":
     * "mamba", "kept": true, "heads": …, "head_dim": …}, …]}} (the {@code subnet} form of elastic.json), or an
     * object with such a {@code subnet} field. Validated against the full model.
     *
     * @throws IOException naming the file and what is wrong
     */
    public static Subnet fromFile(Path file, Architecture full) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file + ": no such configuration file");
        }
        JsonNode o;
        try {
            o = ConfigJson.MAPPER.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (o == null || !o.isObject()) {
            throw new IOException(file + ": expected a JSON object with hidden_size and layers");
        }
        if (o.has("subnet")) {
            o = o.get("subnet");
        }
        try {
            Subnet s = ElasticJson.subnetFromJson(o, file.toString());
            return s.validate(full);
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            throw new IOException(msg.startsWith(file.toString()) ? msg : file + ": " + msg, e);
        }
    }
}
