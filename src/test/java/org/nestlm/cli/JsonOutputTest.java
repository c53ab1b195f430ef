package org.nestlm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.nestlm.model.ConfigJson;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** --json output is strict JSON: a number JSON cannot hold is null, every other one is written as it is. */
class JsonOutputTest {

    @Test
    void nonFiniteNumbersBecomeNull() throws Exception {
        ObjectNode o = ConfigJson.MAPPER.createObjectNode();
        o.put("nan", Double.NaN).put("inf", Double.POSITIVE_INFINITY).put("ninf", Float.NEGATIVE_INFINITY)
                .put("x", 1.5).put("f", 0.25f).put("n", 3);
        o.putArray("a").add(Double.NaN).add(-2.0);
        String text = JsonOutput.write(o, false);
        // the default ObjectMapper refuses bare NaN / Infinity: parsing at all proves the output strict
        var back = new ObjectMapper().readTree(text);
        assertEquals("{\"nan\":null,\"inf\":null,\"ninf\":null,\"x\":1.5,\"f\":0.25,\"n\":3,\"a\":[null,-2.0]}",
                back.toString());

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (var g = JsonOutput.generator(out)) {
            g.writeStartArray();
            g.writeNumber(Double.NaN);
            g.writeNumber(Float.POSITIVE_INFINITY);
            g.writeNumber(-0.5);
            g.writeEndArray();
        }
        assertEquals("[null,null,-0.5]", out.toString(StandardCharsets.UTF_8));
    }
}
