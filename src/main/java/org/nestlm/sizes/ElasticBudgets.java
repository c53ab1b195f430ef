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
 * The files of an elastic checkpoint as the commands ask about them: whether {@code elastic.json} is there, its
 * trained budgets, and a user-given sub-model ({@code --config FILE}). Budgets and limits resolve in
 * {@link ElasticModel}.
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
