package org.nestlm.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The parsed and validated JSON header of one safetensors file.
 *
 * <p>Layout of the file: {@code [u64 LE N][N bytes UTF-8 JSON][data section]}. The JSON is an object mapping
 * tensor names to {@code {"dtype": .., "shape": [..], "data_offsets": [begin, end]}} plus an optional
 * {@code "__metadata__": {string: string}}; offsets are relative to the start of the data section (byte 8 + N).
 *
 * @param tensors  entries in header order
 * @param metadata the {@code __metadata__} map (header order), empty if absent
 */
record SafetensorsHeader(List<Spec> tensors, Map<String, String> metadata) {

    /** Upstream safetensors refuses headers over 100 MB; a larger N means a corrupt or hostile file. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";

    /**
     * One header entry, already checked against the data section.
     *
     * @param begin byte offset of the first element within the data section
     * @param end   byte offset one past the last element; {@code end - begin == numel * dtype.byteSize()}
     */
    record Spec(String name, DType dtype, long[] shape, long begin, long end) {
    }

    /**
     * Tree reading for entry values; a key repeated inside an entry (two "dtype"s) is an error rather than
     * last-one-wins. Top-level duplicates are found by {@link #parse} itself so the message can name the tensor.
     */
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .build();

    /**
     * Parses and validates a header.
     *
     * @param json        the N header bytes (UTF-8 JSON, possibly padded with trailing spaces)
     * @param file        for error messages
     * @param dataSection size in bytes of the data section, {@code fileSize - 8 - N}
     */
    static SafetensorsHeader parse(byte[] json, Path file, long dataSection) throws CheckpointFormatException {
        List<Spec> specs = new ArrayList<>();
        Map<String, String> metadata = Map.of();
        Set<String> seen = new HashSet<>();
        try (JsonParser p = MAPPER.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new CheckpointFormatException(file, "header is not a JSON object");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                if (!seen.add(name)) {
                    throw new CheckpointFormatException(file, "duplicate tensor name '" + name + "' in header");
                }
                p.nextToken();
                JsonNode value;
                try {
                    value = MAPPER.readTree(p);
                } catch (JsonProcessingException e) {
                    // e.g. a key repeated inside the entry; say which entry.
                    String what = METADATA_KEY.equals(name) ? "\"" + METADATA_KEY + "\"" : "tensor '" + name + "'";
                    throw new CheckpointFormatException(file, what + ": header entry is not valid JSON: "
                            + e.getOriginalMessage(), e);
                }
                if (METADATA_KEY.equals(name)) {
                    metadata = parseMetadata(value, file);
                } else {
                    specs.add(parseEntry(name, value, file, dataSection));
                }
            }
            if (t != JsonToken.END_OBJECT) {
                throw new CheckpointFormatException(file, "header is not valid JSON (unexpected " + t + ")");
            }
            JsonToken trailing = p.nextToken();
            if (trailing != null) {
                throw new CheckpointFormatException(file, "header has content after the JSON object (" + trailing
                        + " at byte " + p.currentTokenLocation().getByteOffset() + ")");
            }
        } catch (CheckpointFormatException e) {
            throw e;
        } catch (JsonProcessingException e) {
            throw new CheckpointFormatException(file, "header is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new CheckpointFormatException(file, "header could not be read: " + e.getMessage(), e);
        }
        checkLayout(specs, file, dataSection);
        return new SafetensorsHeader(Collections.unmodifiableList(specs), metadata);
    }

    private static Map<String, String> parseMetadata(JsonNode value, Path file) throws CheckpointFormatException {
        if (value.isNull()) {
            return Map.of();
        }
        if (!value.isObject()) {
            throw new CheckpointFormatException(file, "\"" + METADATA_KEY + "\" is not a JSON object");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : value.properties()) {
            if (!e.getValue().isTextual()) {
                throw new CheckpointFormatException(file, "\"" + METADATA_KEY + "\" value for key '" + e.getKey()
                        + "' is not a string: " + e.getValue());
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private static Spec parseEntry(String name, JsonNode entry, Path file, long dataSection)
            throws CheckpointFormatException {
        String at = "tensor '" + name + "': ";
        if (!entry.isObject()) {
            throw new CheckpointFormatException(file, at + "header entry is not a JSON object");
        }
        JsonNode dtypeNode = required(entry, "dtype", name, file);
        if (!dtypeNode.isTextual()) {
            throw new CheckpointFormatException(file, at + "dtype is not a string: " + dtypeNode);
        }
        DType dtype = DType.parse(dtypeNode.textValue(), file, name);

        JsonNode shapeNode = required(entry, "shape", name, file);
        if (!shapeNode.isArray()) {
            throw new CheckpointFormatException(file, at + "shape is not an array: " + shapeNode);
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!isLong(d)) {
                throw new CheckpointFormatException(file, at + "shape " + shapeNode + " has a non-integer dimension");
            }
            shape[i] = d.longValue();
            if (shape[i] < 0) {
                throw new CheckpointFormatException(file, at + "shape " + shapeNode + " has a negative dimension");
            }
        }

        JsonNode offsets = required(entry, "data_offsets", name, file);
        if (!offsets.isArray() || offsets.size() != 2 || !isLong(offsets.get(0)) || !isLong(offsets.get(1))) {
            throw new CheckpointFormatException(file, at + "data_offsets must be two integers [begin, end], got "
                    + offsets);
        }
        long begin = offsets.get(0).longValue();
        long end = offsets.get(1).longValue();
        if (begin < 0 || end < 0 || begin > end) {
            throw new CheckpointFormatException(file, at + "data_offsets [" + begin + ", " + end
                    + "] are invalid (need 0 <= begin <= end)");
        }
        if (end > dataSection) {
            throw new CheckpointFormatException(file, at + "data_offsets [" + begin + ", " + end
                    + "] are out of range: the data section has only " + dataSection + " bytes (truncated file?)");
        }
        long needed;
        try {
            needed = Shapes.byteSize(shape, dtype);
        } catch (ArithmeticException e) {
            throw new CheckpointFormatException(file, at + "shape " + Arrays.toString(shape) + " is too large");
        }
        if (needed != end - begin) {
            throw new CheckpointFormatException(file, at + "shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + needed + " bytes but data_offsets give " + (end - begin));
        }
        return new Spec(name, dtype, shape, begin, end);
    }

    private static JsonNode required(JsonNode entry, String field, String name, Path file)
            throws CheckpointFormatException {
        JsonNode v = entry.get(field);
        if (v == null || v.isNull()) {
            throw new CheckpointFormatException(file, "tensor '" + name + "': header entry has no \"" + field + "\"");
        }
        return v;
    }

    private static boolean isLong(JsonNode n) {
        return n != null && n.isIntegralNumber() && n.canConvertToLong();
    }

    /**
     * The tensors must tile the data section exactly, as the format requires: sorted by offset, each begins where
     * the previous one ends, the first at 0 and the last at the end of the section. Two tensors sharing bytes, a
     * hole between them or bytes after the last would mean the header does not describe the file (a truncated or
     * spliced write, or a hand-made file). Empty tensors occupy no bytes and may sit anywhere.
     */
    private static void checkLayout(List<Spec> specs, Path file, long dataSection) throws CheckpointFormatException {
        List<Spec> sorted = new ArrayList<>();
        for (Spec s : specs) {
            if (s.end() > s.begin()) {
                sorted.add(s);
            }
        }
        sorted.sort(Comparator.comparingLong(Spec::begin).thenComparingLong(Spec::end));
        long at = 0;
        Spec prev = null;
        for (Spec cur : sorted) {
            if (cur.begin() < at) {
                throw new CheckpointFormatException(file, "tensors '" + prev.name() + "' [" + prev.begin() + ", "
                        + prev.end() + ") and '" + cur.name() + "' [" + cur.begin() + ", " + cur.end()
                        + ") overlap in the data section");
            }
            if (cur.begin() > at) {
                throw new CheckpointFormatException(file, "the data section has a hole of " + (cur.begin() - at)
                        + " bytes at [" + at + ", " + cur.begin() + ") before tensor '" + cur.name()
                        + "' (tensors must be contiguous)");
            }
            at = cur.end();
            prev = cur;
        }
        if (at != dataSection) {
            throw new CheckpointFormatException(file, "the data section has " + (dataSection - at)
                    + " bytes after the last tensor (" + dataSection + " bytes, tensors end at " + at + ")");
        }
    }
}
