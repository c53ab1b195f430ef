package org.nestlm.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.nestlm.sizes.MemoryModel;

/**
 * The size fields of a completion request: {@code "budget"} (a trained budget or any budget in the trained range:
 * {@code "60%"}, {@code 0.6}, {@code "3M"}) or limits under which the largest size is chosen:
 * {@code "max_params"} (a count, or a string such as {@code "3M"}), {@code "max_memory"} (bytes, or a string such
 * as {@code "2GB"}, counted at the server's --dtype, --context and --batch) and {@code "max_latency_ms"} (decode
 * latency from the checkpoint's latency.json at the server's thread count). Every rejection names the field.
 *
 * @param budget       budget text, or null
 * @param maxParams    parameter limit, or −1
 * @param maxMemory    byte limit, or −1
 * @param maxLatencyMs latency limit in ms per token, or NaN
 */
record SizeRequest(String budget, long maxParams, long maxMemory, double maxLatencyMs) {

    static final SizeRequest NONE = new SizeRequest(null, -1, -1, Double.NaN);

    static SizeRequest parse(JsonNode body) {
        if (body == null || !body.isObject()) {
            return NONE;
        }
        String budget = null;
        JsonNode b = body.get("budget");
        if (b != null && !b.isNull()) {
            if (!b.isTextual() && !b.isNumber()) {
                throw ApiException.badField("budget", "'budget' must be a string such as \"60%\" or a fraction");
            }
            budget = b.asText();
        }
        long params = count(body, "max_params");
        long memory = -1;
        JsonNode m = body.get("max_memory");
        if (m != null && !m.isNull()) {
            if (m.isIntegralNumber() && m.asLong() > 0) {
                memory = m.asLong();
            } else if (m.isTextual()) {
                try {
                    memory = MemoryModel.parseBytes(m.asText());
                } catch (IllegalArgumentException e) {
                    throw ApiException.badField("max_memory", "'max_memory': " + e.getMessage());
                }
            } else {
                throw ApiException.badField("max_memory", "'max_memory' must be a positive byte count or a size such as \"2GB\", got " + m);
            }
        }
        double latency = Double.NaN;
        JsonNode l = body.get("max_latency_ms");
        if (l != null && !l.isNull()) {
            if (!l.isNumber() || !(l.asDouble() > 0)) {
                throw ApiException.badField("max_latency_ms", "'max_latency_ms' must be a positive number of milliseconds, got " + l);
            }
            latency = l.asDouble();
        }
        SizeRequest r = new SizeRequest(budget, params, memory, latency);
        if (budget != null && r.constrained()) {
            throw ApiException.badField("budget", "give either 'budget' or limits ('max_params', 'max_memory', 'max_latency_ms'), not both");
        }
        return r;
    }

    /** True when a limit was given. */
    boolean constrained() {
        return maxParams > 0 || maxMemory > 0 || !Double.isNaN(maxLatencyMs);
    }

    /** The request field of the first limit given, for error messages. */
    String firstLimitField() {
        return maxParams > 0 ? "max_params" : maxMemory > 0 ? "max_memory" : "max_latency_ms";
    }

    private static long count(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return -1;
        }
        long v = -1;
        if (n.isIntegralNumber()) {
            v = n.asLong();
        } else if (n.isTextual()) {
            try {
                org.nestlm.sizes.Budget parsed = org.nestlm.sizes.Budget.parse(n.asText());
                v = parsed.absolute();
            } catch (IllegalArgumentException e) {
                v = -1;
            }
        }
        if (v < 1) {
            throw ApiException.badField(field, "'" + field + "' must be a positive parameter count (2500000 or \"2.5M\"), got " + n);
        }
        return v;
    }
}
