package org.nestlm.api;

import org.nestlm.sizes.Axis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.sizes.Budget;
import org.nestlm.sizes.ElasticJson;
import org.nestlm.sizes.ElasticSpace;
import org.nestlm.elastic.Router;
import org.nestlm.sizes.Subnet;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.infer.CharTokenizer;
import org.nestlm.infer.InferTestModels;
import org.nestlm.io.DType;
import org.nestlm.slice.ElasticFixtures;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Everything the API does on an elastic checkpoint — trained and interpolated sizes, selection by limits, generate,
 * chat, score, speculative decoding — without libtorch in the process (this test class runs in its own JVM and
 * writes its checkpoint without DJL, so any libtorch mapping would be the API's).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PureJavaTest {

    @TempDir
    Path tmp;

    @Test
    void noLibtorchIsLoaded() throws Exception {
        Path dir = writeElastic(tmp.resolve("el"));
        try (Nestlm ckpt = Nestlm.open(dir, OpenOptions.defaults().withThreads(1))) {
            assertEquals(3, ckpt.sizes().size());
            Size mid = ckpt.size("60%");
            assertEquals(Size.Kind.INTERPOLATED, mid.kind());
            Size picked = ckpt.select(SizeLimits.maxParams(ckpt.size("75%").parameters() - 1));
            assertTrue(picked.parameters() < ckpt.size("75%").parameters());
            assertEquals(5, ckpt.sizes(2).size());
            TextModel m = ckpt.model("60%");
            assertEquals(6, m.generate("ab", Sampling.greedy(6).withIgnoreEos(true)).tokens().length);
            assertEquals("el@60%", m.chat(List.of(ChatMessage.user("hi")), Sampling.greedy(4)).size());
            assertEquals(3, m.score("abcd").logprobs().length);
            assertTrue(ckpt.model().withDraft("50%", 2).generate("ab", Sampling.greedy(5).withIgnoreEos(true)).tokens().length == 5);
        }
        List<String> torch = Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("libtorch")).toList();
        assertEquals(List.of(), torch, "libtorch was loaded");
    }

    /** {@link ElasticFixtures}' checkpoint, its router weights drawn here in plain Java rather than by DJL's Router. */
    static Path writeElastic(Path dir) throws Exception {
        InferTestModels.write(dir, ElasticFixtures.config(), DType.BF16, 3);
        CharTokenizer.write(dir);
        ElasticSpace space = ElasticFixtures.space();
        List<TrainedBudget> budgets = new ArrayList<>();
        long full = ElasticFixtures.full().parameterCount();
        for (int i = 0; i < ElasticFixtures.BUDGETS.size(); i++) {
            Subnet s = ElasticFixtures.subnet(i);
            budgets.add(new TrainedBudget(ElasticFixtures.BUDGETS.get(i), Budget.parse(ElasticFixtures.BUDGETS.get(i)).target(full), s,
                    s.parameterCount(ElasticFixtures.config()), true));
        }
        int width = 16, n = ElasticFixtures.BUDGETS.size();
        int[] outs = {space.hidden().length, space.mlpGroups() * space.mlpFractions().length, space.mambaHeadsPerGroup().length,
                space.attentionHeadsPerGroup().length, space.depthRemovals().length};
        Map<String, float[]> state = new LinkedHashMap<>();
        Random rng = new Random(3);
        for (Axis a : Axis.values()) {
            state.put("router." + a.key() + ".w1", gaussian(width * n, rng));
            state.put("router." + a.key() + ".w2", gaussian(outs[a.ordinal()] * width, rng));
        }
        ElasticJson.write(dir, new ElasticJson.Metadata(space, ElasticFixtures.BUDGETS, new double[] {0.75, 0.5}, width, state, budgets));
        return dir;
    }

    private static float[] gaussian(int n, Random rng) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextGaussian() * 0.1);
        }
        return v;
    }
}
