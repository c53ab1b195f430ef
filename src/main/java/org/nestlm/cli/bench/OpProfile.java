package org.nestlm.cli.bench;

import com.fasterxml.jackson.databind.JsonNode;
import org.nestlm.model.ConfigJson;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where the gradient half of a training step spends its time, by operation class, from the trace libtorch's
 * autograd profiler writes ({@code JniUtils.startProfile}/{@code stopProfile}: one event per operator call with
 * its start, duration, thread and input shapes). Each operator is charged its <em>self</em> time (its duration
 * minus that of the operators it called), so nested calls ({@code aten::linear} → {@code aten::addmm}) are counted
 * once, and classified by name and, where one name serves several stages, by shape:
 * <ul>
 *   <li>{@code mm}/{@code addmm}: projections (the layers' linear maps and the LM head, forward and backward);</li>
 *   <li>{@code bmm}: attention when an operand's matrix has the sequence length as a side (scores and context),
 *       else the SSD scan (its matrices are chunk-sized: set the chunk apart from the sequence length);</li>
 *   <li>{@code exp} and {@code cumsum}: the loss when the last dimension is the vocabulary, else the SSD scan;</li>
 *   <li>the remaining names by kind: conv, norms and activations, elementwise arithmetic (residuals, masks, gating,
 *       the scan's weights), copies and layout, reductions, the loss's log-softmax and gather, autograd's own
 *       bookkeeping.</li>
 * </ul>
 * Time on the calling thread outside every operator (between top-level calls) is the JNI and Java overhead.
 */
final class OpProfile {

    static final List<String> CLASSES = List.of("projections (mm, addmm)", "SSD scan matmuls (bmm)",
            "SSD scan cumsum/exp", "attention (bmm, softmax)", "conv", "norms and activations",
            "elementwise arithmetic", "copies and layout", "reductions", "loss (log-softmax, gather, exp)",
            "autograd bookkeeping", "other");

    private static final Pattern NUMBER_LIST = Pattern.compile("\\[([0-9, ]*)]");

    private OpProfile() {
    }

    /**
     * Self microseconds per class (keys of {@link #CLASSES}), plus under "busy" the microseconds the calling thread
     * (the one with the most operator time) spent inside top-level operators.
     */
    static Map<String, Double> classify(Path trace, long seqLen, long vocab) throws IOException {
        JsonNode all = ConfigJson.MAPPER.readTree(trace.toFile());
        record Event(String name, double ts, double dur, long tid, List<long[]> shapes) {
        }
        List<Event> events = new ArrayList<>();
        for (JsonNode e : all) {
            events.add(new Event(e.path("name").asText(), e.path("ts").asDouble(), e.path("dur").asDouble(),
                    e.path("tid").asLong(), shapes(e.path("shape").toString())));
        }
        events.sort(Comparator.comparingLong(Event::tid).thenComparingDouble(Event::ts)
                .thenComparing(Comparator.comparingDouble(Event::dur).reversed()));
        Map<String, Double> out = new LinkedHashMap<>();
        CLASSES.forEach(c -> out.put(c, 0.0));
        Map<Long, Double> busy = new java.util.HashMap<>();
        Deque<double[]> open = new ArrayDeque<>();                 // [end, index] of the enclosing events
        double[] self = new double[events.size()];
        long tid = Long.MIN_VALUE;
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            if (e.tid() != tid) {
                open.clear();
                tid = e.tid();
            }
            while (!open.isEmpty() && open.peek()[0] <= e.ts()) {
                open.pop();
            }
            self[i] = e.dur();
            if (open.isEmpty()) {
                busy.merge(e.tid(), e.dur(), Double::sum);
            } else {
                self[(int) open.peek()[1]] -= e.dur();
            }
            open.push(new double[] {e.ts() + e.dur(), i});
        }
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            out.merge(classOf(e.name(), e.shapes(), seqLen, vocab), Math.max(0, self[i]), Double::sum);
        }
        out.put("busy", busy.values().stream().mapToDouble(Double::doubleValue).max().orElse(0));
        return out;
    }

    private static String classOf(String name, List<long[]> shapes, long seqLen, long vocab) {
        if (!name.startsWith("aten::")) {
            return "autograd bookkeeping";                          // backward nodes, AccumulateGrad, engine wrappers
        }
        String op = name.substring(6);
        return switch (op) {
            case "mm", "addmm", "linear", "matmul" -> "projections (mm, addmm)";
            case "bmm" -> shapes.stream().anyMatch(s -> s.length >= 2
                    && (s[s.length - 1] == seqLen || s[s.length - 2] == seqLen))
                    ? "attention (bmm, softmax)" : "SSD scan matmuls (bmm)";
            case "_softmax", "softmax", "_softmax_backward_data" -> "attention (bmm, softmax)";
            case "exp", "cumsum", "exp_", "flip" -> shapes.stream().anyMatch(s -> s.length > 0 && s[s.length - 1] == vocab)
                    ? "loss (log-softmax, gather, exp)" : "SSD scan cumsum/exp";
            case "_log_softmax", "log_softmax", "_log_softmax_backward_data", "gather", "scatter_add_", "scatter_add",
                 "nll_loss" -> "loss (log-softmax, gather, exp)";
            case "silu", "silu_backward", "relu", "threshold_backward", "softplus", "softplus_backward", "rsqrt",
                 "pow", "square", "sqrt", "sigmoid", "clamp", "clip", "mean", "var", "tanh" -> "norms and activations";
            case "mul", "mul_", "add", "add_", "sub", "sub_", "div", "div_", "neg", "rsub", "where", "addcmul_",
                 "addcdiv_", "lerp_" -> "elementwise arithmetic";
            case "sum", "norm", "linalg_vector_norm", "max", "amax", "min" -> "reductions";
            default -> op.contains("conv") ? "conv"
                    : isLayout(op) ? "copies and layout" : "other";
        };
    }

    private static boolean isLayout(String op) {
        return switch (op) {
            case "copy_", "clone", "contiguous", "cat", "stack", "index", "index_select", "slice", "select", "narrow",
                 "split", "split_with_sizes", "view", "reshape", "_reshape_alias", "transpose", "permute", "expand",
                 "as_strided", "unsqueeze", "squeeze", "empty", "empty_like", "empty_strided", "zeros", "zeros_like",
                 "zero_", "fill_", "ones", "ones_like", "new_zeros", "new_empty", "new_empty_strided", "repeat",
                 "embedding", "embedding_backward", "embedding_dense_backward", "t", "_unsafe_view", "detach",
                 "detach_", "to", "_to_copy", "resize_", "slice_backward", "select_backward", "index_put_",
                 "_index_put_impl_", "alias", "expand_as", "unbind", "flatten", "constant_pad_nd", "pad",
                 "result_type", "item", "_local_scalar_dense", "broadcast_to", "lift_fresh", "scalar_tensor" -> true;
            default -> false;
        };
    }

    /** The integer lists of a recorded shape field ("[[8, 256], [256, 64]]" or similar). */
    private static List<long[]> shapes(String text) {
        List<long[]> out = new ArrayList<>();
        Matcher m = NUMBER_LIST.matcher(text);
        while (m.find()) {
            String body = m.group(1).trim();
            if (body.isEmpty()) {
                out.add(new long[0]);
                continue;
            }
            String[] parts = body.split(",\\s*");
            long[] s = new long[parts.length];
            for (int i = 0; i < parts.length; i++) {
                s[i] = Long.parseLong(parts[i].trim());
            }
            out.add(s);
        }
        return out;
    }
}
