package org.nestlm.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.nestlm.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face {@code tokenizer.json} for a byte-level BPE {@link BpeModel}, in the shape of GPT-2's: a
 * {@code ByteLevel} pre-tokenizer with GPT-2's built-in expression ({@code use_regex: true}, no prefix space), a
 * {@code BPE} model with {@code "left right"} merges, a {@code ByteLevel} decoder, and the special tokens as added
 * tokens (so text containing {@code <|endoftext|>} encodes to its id). No normalizer: the bytes of the text are the
 * tokens' bytes. The post-processor adds nothing, so plain {@code encode} gives just the ids of the text.
 */
public final class TokenizerJson {

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private TokenizerJson() {
    }

    public static void write(BpeModel model, Path file) throws IOException {
        AtomicFiles.writeBytes(file, MAPPER.writeValueAsBytes(toJson(model)));
    }

    static ObjectNode toJson(BpeModel model) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < model.specials(); i++) {
            ObjectNode t = added.addObject();
            t.put("id", i);
            t.put("content", model.tokens().get(i));
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(true));
        root.set("post_processor", byteLevel(false));
        root.set("decoder", byteLevel(true));
        ObjectNode m = root.putObject("model");
        m.put("type", "BPE");
        m.putNull("dropout");
        m.putNull("unk_token");
        m.putNull("continuing_subword_prefix");
        m.putNull("end_of_word_suffix");
        m.put("fuse_unk", false);
        m.put("byte_fallback", false);
        ObjectNode vocab = m.putObject("vocab");
        for (int i = 0; i < model.tokens().size(); i++) {
            vocab.put(model.tokens().get(i), i);
        }
        ArrayNode merges = m.putArray("merges");
        for (BpeModel.Merge mg : model.merges()) {
            merges.add(model.tokens().get(mg.left()) + " " + model.tokens().get(mg.right()));
        }
        return root;
    }

    private static ObjectNode byteLevel(boolean trimOffsets) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("type", "ByteLevel");
        n.put("add_prefix_space", false);
        n.put("trim_offsets", trimOffsets);
        n.put("use_regex", true);
        return n;
    }

    /**
     * The model of {@code file} when it is exactly what {@link #write} produces for that model (same JSON tree),
     * so the Java {@link BpeEncoder} gives the same ids as DJL; empty for any other tokenizer or a hand-edited one.
     */
    public static java.util.Optional<BpeModel> readOwn(Path file) throws IOException {
        JsonNode root;
        try {
            root = MAPPER.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return java.util.Optional.empty();
        }
        BpeModel model;
        try {
            model = read(file);
        } catch (IOException | IllegalArgumentException e) {
            return java.util.Optional.empty();
        }
        return root.equals(toJson(model)) ? java.util.Optional.of(model) : java.util.Optional.empty();
    }

    /**
     * Reads a tokenizer.json written by {@link #write} back into a model (for the Java encoder). Rejects files of
     * another shape, naming the file and field.
     */
    public static BpeModel read(Path file) throws IOException {
        JsonNode root;
        try {
            root = MAPPER.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(file + ": not JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode m = root.path("model");
        if (!"BPE".equals(m.path("type").asText())) {
            throw new IOException(file + ": field model.type must be BPE");
        }
        if (!"ByteLevel".equals(root.path("pre_tokenizer").path("type").asText())) {
            throw new IOException(file + ": field pre_tokenizer.type must be ByteLevel");
        }
        JsonNode vocab = m.path("vocab");
        if (!vocab.isObject()) {
            throw new IOException(file + ": field model.vocab must be an object");
        }
        String[] tokens = new String[vocab.size()];
        Map<String, Integer> ids = new HashMap<>();
        for (var it = vocab.fields(); it.hasNext(); ) {
            var e = it.next();
            int id = e.getValue().asInt(-1);
            if (id < 0 || id >= tokens.length || tokens[id] != null) {
                throw new IOException(file + ": model.vocab[\"" + e.getKey() + "\"] = " + e.getValue()
                        + " is not a fresh id below " + tokens.length);
            }
            tokens[id] = e.getKey();
            ids.put(e.getKey(), id);
        }
        int specials = 0;
        for (JsonNode t : root.path("added_tokens")) {
            if (t.path("id").asInt(-1) == specials) {
                specials++;
            }
        }
        List<BpeModel.Merge> merges = new ArrayList<>();
        int i = 0;
        for (JsonNode mg : m.path("merges")) {
            String l;
            String r;
            if (mg.isArray() && mg.size() == 2) {
                l = mg.get(0).asText();
                r = mg.get(1).asText();
            } else {
                String[] parts = mg.asText().split(" ", -1);
                if (parts.length != 2) {
                    throw new IOException(file + ": model.merges[" + i + "] is not \"left right\"");
                }
                l = parts[0];
                r = parts[1];
            }
            Integer a = ids.get(l);
            Integer b = ids.get(r);
            Integer c = ids.get(l + r);
            if (a == null || b == null || c == null) {
                throw new IOException(file + ": model.merges[" + i + "] uses a token missing from model.vocab");
            }
            merges.add(new BpeModel.Merge(a, b, c));
            i++;
        }
        return new BpeModel(List.of(tokens), merges, specials);
    }
}
