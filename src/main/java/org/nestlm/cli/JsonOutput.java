package org.nestlm.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.JsonGeneratorDelegate;
import com.fasterxml.jackson.databind.JsonNode;
import org.nestlm.model.ConfigJson;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;

/**
 * What {@code --json} prints: strict JSON. {@link ConfigJson#MAPPER} writes a non-finite double as the bare
 * literal {@code NaN} / {@code Infinity}, as {@code config.json} needs; no JSON parser but a lenient one reads
 * that back, so here such a number (a figure that could not be measured or computed) is written as {@code null}.
 */
public final class JsonOutput {

    private JsonOutput() {
    }

    /** A generator over {@code out} that writes non-finite numbers as null. */
    public static JsonGenerator generator(OutputStream out) throws IOException {
        return strict(ConfigJson.MAPPER.getFactory().createGenerator(out));
    }

    /** {@code tree} as strict JSON text, indented when {@code pretty}. */
    public static String write(JsonNode tree, boolean pretty) throws IOException {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = strict(ConfigJson.MAPPER.getFactory().createGenerator(w))) {
            if (pretty) {
                g.useDefaultPrettyPrinter();
            }
            ConfigJson.MAPPER.writeTree(g, tree);
        }
        return w.toString();
    }

    private static JsonGenerator strict(JsonGenerator g) {
        return new JsonGeneratorDelegate(g, false) {
            @Override
            public void writeNumber(double v) throws IOException {
                if (Double.isFinite(v)) {
                    super.writeNumber(v);
                } else {
                    writeNull();
                }
            }

            @Override
            public void writeNumber(float v) throws IOException {
                if (Float.isFinite(v)) {
                    super.writeNumber(v);
                } else {
                    writeNull();
                }
            }
        };
    }
}
