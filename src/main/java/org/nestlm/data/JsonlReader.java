package org.nestlm.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.nestlm.io.AtomicFiles.IOConsumer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * JSON Lines documents: one JSON object per line with a string field {@code text}; other fields are ignored and
 * blank lines skipped. Streams line by line, so a large file never sits in memory whole. Errors name the file, the
 * line and the field.
 */
public final class JsonlReader {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonlReader() {
    }

    public static void read(Path file, IOConsumer<Document> action) throws IOException {
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(file), decoder))) {
            int lineNo = 0;
            for (String line; ; ) {
                try {
                    line = r.readLine();
                } catch (CharacterCodingException e) {
                    throw new IOException(file + ":" + (lineNo + 1) + ": not UTF-8 text", e);
                }
                if (line == null) {
                    break;
                }
                lineNo++;
                if (line.isBlank()) {
                    continue;
                }
                String where = file + ":" + lineNo;
                JsonNode node;
                try {
                    node = MAPPER.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new IOException(where + ": not a JSON object: " + e.getOriginalMessage(), e);
                }
                if (node == null || !node.isObject()) {
                    throw new IOException(where + ": expected a JSON object with a \"text\" field");
                }
                JsonNode text = node.get("text");
                if (text == null) {
                    throw new IOException(where + ": missing field \"text\"");
                }
                if (!text.isTextual()) {
                    throw new IOException(where + ": field \"text\" must be a string, got " + text.getNodeType()
                            .toString().toLowerCase(java.util.Locale.ROOT));
                }
                action.accept(new Document(where, text.asText()));
            }
        }
    }
}
