package org.nestlm.elastic;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.nestlm.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * {@code rankings.json}: {@link Rankings} through Jackson. Objects are indented, number arrays stay on one line
 * (a 5120-channel order is one line, not 5120). Reading is strict: unknown, missing or null fields are errors,
 * and every error names the file and the JSON path of the field.
 */
public final class RankingsJson {

    /** The file name inside a model directory. */
    public static final String FILE = "rankings.json";

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    private RankingsJson() {
    }

    /** The JSON text (ends with a newline). */
    public static String toJson(Rankings r) {
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter()
                .withObjectIndenter(DefaultIndenter.SYSTEM_LINEFEED_INSTANCE.withLinefeed("\n"))
                .withArrayIndenter(DefaultPrettyPrinter.NopIndenter.instance);
        try {
            return MAPPER.writer(pp).writeValueAsString(r) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise rankings: " + e.getMessage(), e);
        }
    }

    /** Writes {@code r} to {@code file} atomically. */
    public static void write(Path file, Rankings r) throws IOException {
        AtomicFiles.writeString(file, toJson(r));
    }

    /**
     * Reads and structurally checks a rankings file (use {@link Rankings#validate} against the model too).
     *
     * @throws IOException naming the file and the offending field
     */
    public static Rankings read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such rankings file (create one with 'nestlm importance')", e);
        }
        return parse(text, file.toString());
    }

    /** Parses JSON text; {@code source} names it in errors. */
    public static Rankings parse(String text, String source) throws IOException {
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IOException(source + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException(source + ": expected a JSON object");
        }
        // the version first, so that a newer file fails with a clear message rather than a field error
        JsonNode v = root.get("version");
        if (v == null || !v.isInt()) {
            throw new IOException(source + ": field 'version' is missing or not an integer");
        }
        if (v.intValue() != Rankings.VERSION) {
            throw new IOException(source + ": field 'version' is " + v.intValue() + ", this nestlm reads version "
                    + Rankings.VERSION);
        }
        try {
            return MAPPER.treeToValue(root, Rankings.class);
        } catch (JsonMappingException e) {
            throw new IOException(source + ": field '" + path(e) + "': " + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new IOException(source + ": " + e.getOriginalMessage(), e);
        }
    }

    /** The JSON path of a mapping error, e.g. {@code layers[3].groups[1]}. */
    static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.isEmpty() ? "(root)" : sb.toString();
    }
}
