package org.nestlm.infer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a tiny Hugging Face {@code tokenizer.json} for tests: a WordLevel model whose words are single
 * characters (the pre-tokenizer splits every character off, the Fuse decoder joins them back), 64 ids for
 * the 64 characters of {@link #CHARS}.
 */
public final class CharTokenizer {

    /** id i is {@code CHARS.charAt(i)}; id 0 ('?') doubles as the unknown token. */
    public static final String CHARS = "?abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567 :\n";

    private CharTokenizer() {
    }

    public static Path write(Path dir) throws IOException {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        root.putArray("added_tokens");
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "Split");
        pre.putObject("pattern").put("Regex", ".|\\n");
        pre.put("behavior", "Isolated");
        pre.put("invert", false);
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "Fuse");
        ObjectNode model = root.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < CHARS.length(); i++) {
            vocab.put(String.valueOf(CHARS.charAt(i)), i);
        }
        model.put("unk_token", "?");
        Path file = dir.resolve("tokenizer.json");
        m.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
        return file;
    }
}
