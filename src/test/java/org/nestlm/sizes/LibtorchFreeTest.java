package org.nestlm.sizes;

import org.junit.jupiter.api.Test;
import org.nestlm.ClassReferences;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Resolving sizes, slicing, planning and serving never load libtorch: no class reachable from their entry points
 * refers to DJL's tensors, engines or models. The scan follows every nestlm class named in a constant pool (calls,
 * fields, signatures, nested classes) from the entry points, as {@code OwnedTensorsRuleTest} reads constant pools,
 * so a new call into a DJL class anywhere on these paths fails here, naming the path that reaches it. The one DJL
 * package allowed is the Hugging Face tokenizer binding, which is its own native library, not libtorch.
 */
class LibtorchFreeTest {

    /** DJL classes these paths may use: the tokenizer (tokenizers JNI, no libtorch). */
    private static final String ALLOWED = "ai/djl/huggingface/tokenizers/";

    @Test
    void sizesSlicingPlanningAndServingReachNoDjlTensorCode() throws IOException {
        List<String> entries = List.of(
                "org/nestlm/sizes/ElasticModel", "org/nestlm/sizes/SizeSelector", "org/nestlm/sizes/ElasticJson",
                "org/nestlm/sizes/ElasticBudgets", "org/nestlm/sizes/LatencyProfile", "org/nestlm/sizes/MemoryModel",
                "org/nestlm/sizes/Axis", "org/nestlm/sizes/NotElasticException",
                "org/nestlm/slice/Slicer", "org/nestlm/slice/SlicePlan", "org/nestlm/slice/SlicedConfig",
                "org/nestlm/cli/SliceCommand", "org/nestlm/cli/ElasticPlanCommand", "org/nestlm/cli/ServeCommand",
                "org/nestlm/serve/OpenAiServer", "org/nestlm/serve/ElasticSizes", "org/nestlm/infer/ElasticFamily",
                "org/nestlm/api/Nestlm");
        Map<String, String> via = new HashMap<>();   // class → the class that reached it
        Deque<String> todo = new ArrayDeque<>(entries);
        entries.forEach(e -> via.put(e, null));
        TreeSet<String> offences = new TreeSet<>();
        while (!todo.isEmpty()) {
            String c = todo.pop();
            for (String ref : references(c)) {
                if (ref.startsWith("ai/djl/") && !ref.startsWith(ALLOWED)) {
                    offences.add(path(c, via) + " -> " + ref);
                } else if (ref.startsWith("org/nestlm/") && !via.containsKey(ref)) {
                    via.put(ref, c);
                    todo.push(ref);
                }
            }
        }
        assertTrue(via.size() > 50, "reached only " + via.size() + " classes");
        assertTrue(via.containsKey("org/nestlm/sizes/RouterInference") && via.containsKey("org/nestlm/infer/Engine"),
                "the scan follows the router and the engine");
        assertEquals(List.of(), List.copyOf(offences), "DJL tensor code on the libtorch-free paths");
    }

    /** Every class named in {@code internalName}'s constant pool: class entries and those inside descriptors. */
    private static TreeSet<String> references(String internalName) throws IOException {
        try (InputStream in = LibtorchFreeTest.class.getClassLoader().getResourceAsStream(internalName + ".class")) {
            if (in == null) {
                throw new IOException("no class file for " + internalName);
            }
            return ClassReferences.of(in.readAllBytes(), internalName);
        }
    }

    private static String path(String c, Map<String, String> via) {
        StringBuilder sb = new StringBuilder(c);
        for (String p = via.get(c); p != null; p = via.get(p)) {
            sb.insert(0, p + " -> ");
        }
        return sb.toString();
    }
}
