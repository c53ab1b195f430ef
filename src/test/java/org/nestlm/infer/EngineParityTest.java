package org.nestlm.infer;

import ai.djl.ndarray.NDArray;
import org.nestlm.model.Tensors;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nestlm.model.Checkpoint;
import org.nestlm.io.DType;
import org.nestlm.model.DecodeState;
import org.nestlm.model.NemotronH;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pure-Java engine against the DJL fp32 model on the same checkpoint (F32 and BF16 weights; DJL reads
 * BF16 widened to f32, so both see identical weights): full-sequence logits, step-by-step decode,
 * prefill-then-decode, and greedy generation. The sequence (21 tokens) is longer than chunk_size (8) and
 * not a multiple of it.
 */
class EngineParityTest extends org.nestlm.DjlTestBase {

    static final double TOL = 1e-4;
    static final int LEN = 21;

    @TempDir
    static Path tmp;
    static Parallel parallel;
    static final Map<DType, Checkpoint> checkpoints = new EnumMap<>(DType.class);

    @BeforeAll
    static void setUp() throws Exception {
        parallel = new Parallel(2);
        for (DType d : new DType[] {DType.F32, DType.BF16}) {
            Path dir = InferTestModels.write(tmp.resolve(d.name()), InferTestModels.hybrid(), d, 11);
            checkpoints.put(d, Checkpoint.open(dir));
        }
    }

    @AfterAll
    static void tearDown() {
        checkpoints.values().forEach(Checkpoint::close);
        parallel.close();
    }

    enum Weights { F32, BF16 }

    private static Checkpoint ckpt(Weights w) {
        return checkpoints.get(DType.valueOf(w.name()));
    }

    private static NDArray ids(NDManager m, int[] ids, int from, int to) {
        long[] l = new long[to - from];
        for (int i = from; i < to; i++) {
            l[i - from] = ids[i];
        }
        return Tensors.of(m, l, new Shape(1, l.length));
    }

    @ParameterizedTest
    @EnumSource(Weights.class)
    void prefillLogitsMatchDjl(Weights w) throws Exception {
        Checkpoint c = ckpt(w);
        int[] ids = InferTestModels.ids(LEN, c.config().vocabSize(), 3);
        try (NDManager m = manager.newSubManager(); NemotronH net = NemotronH.load(c, m); Engine engine = Engine.of(c, parallel)) {
            float[] expected = net.forward(ids(m, ids, 0, LEN)).toFloatArray();          // [1, L, V]
            float[] actual = engine.forward(engine.newState(), ids, true);                  // [L, V]
            double diff = InferTestModels.maxAbsDiff(expected, actual);
            assertTrue(diff <= TOL, w + ": max |Δlogit| " + diff);
            assertSpread(actual);
        }
    }

    @ParameterizedTest
    @EnumSource(Weights.class)
    void stepByStepDecodeMatchesDjl(Weights w) throws Exception {
        Checkpoint c = ckpt(w);
        int[] ids = InferTestModels.ids(LEN, c.config().vocabSize(), 4);
        try (NDManager m = manager.newSubManager(); NemotronH net = NemotronH.load(c, m); Engine engine = Engine.of(c, parallel);
             DecodeState ds = net.newDecodeState(1)) {
            InferenceState es = engine.newState();
            double worst = 0;
            for (int id : ids) {
                float[] expected = net.step(Tensors.of(m, new long[] {id}), ds).toFloatArray();  // [1, V]
                float[] actual = engine.step(es, id);
                worst = Math.max(worst, InferTestModels.maxAbsDiff(expected, actual));
            }
            assertTrue(worst <= TOL, w + ": max |Δlogit| " + worst);
            assertTrue(es.position() == LEN);
        }
    }

    @ParameterizedTest
    @EnumSource(Weights.class)
    void prefillThenDecodeMatchesDjlAndFullSequence(Weights w) throws Exception {
        Checkpoint c = ckpt(w);
        int[] ids = InferTestModels.ids(LEN, c.config().vocabSize(), 5);
        int split = 13;
        int v = c.config().vocabSize();
        try (NDManager m = manager.newSubManager(); NemotronH net = NemotronH.load(c, m); Engine engine = Engine.of(c, parallel);
             DecodeState ds = net.newDecodeState(1)) {
            InferenceState es = engine.newState();
            float[] full = engine.forward(engine.newState(), ids, true);
            float[] e0 = net.forward(ids(m, ids, 0, split), ds).toFloatArray();
            float[] a0 = engine.forward(es, Arrays.copyOf(ids, split), true);
            assertTrue(InferTestModels.maxAbsDiff(e0, a0) <= TOL);
            double worst = 0, vsFull = 0;
            for (int i = split; i < LEN; i++) {
                float[] expected = net.step(Tensors.of(m, new long[] {ids[i]}), ds).toFloatArray();
                float[] actual = engine.step(es, ids[i]);
                worst = Math.max(worst, InferTestModels.maxAbsDiff(expected, actual));
                vsFull = Math.max(vsFull, InferTestModels.maxAbsDiff(Arrays.copyOfRange(full, i * v, (i + 1) * v), actual));
            }
            assertTrue(worst <= TOL, w + ": engine vs DJL max |Δlogit| " + worst);
            assertTrue(vsFull <= TOL, w + ": decode vs full sequence max |Δlogit| " + vsFull);
        }
    }

    @ParameterizedTest
    @EnumSource(Weights.class)
    void greedyGenerationIsIdentical(Weights w) throws Exception {
        Checkpoint c = ckpt(w);
        int v = c.config().vocabSize();
        int[] prompt = InferTestModels.ids(9, v, 6);
        int steps = 16;
        try (NDManager m = manager.newSubManager(); NemotronH net = NemotronH.load(c, m); Engine engine = Engine.of(c, parallel);
             DecodeState ds = net.newDecodeState(1)) {
            int[] djl = new int[steps];
            float[] logits = net.forward(ids(m, prompt, 0, prompt.length), ds).toFloatArray();
            int next = InferTestModels.argmax(logits, (prompt.length - 1) * v, v);
            for (int i = 0; i < steps; i++) {
                djl[i] = next;
                next = InferTestModels.argmax(net.step(Tensors.of(m, new long[] {next}), ds).toFloatArray(), 0, v);
            }
            int[] java = new int[steps];
            InferenceState es = engine.newState();
            float[] l = engine.forward(es, prompt, false);
            for (int i = 0; i < steps; i++) {
                java[i] = InferTestModels.argmax(l, 0, v);
                l = engine.step(es, java[i]);
            }
            assertArrayEquals(djl, java, w + ": greedy continuation");
        }
    }

    /** Guards against a vacuous comparison: the logits must actually vary. */
    private static void assertSpread(float[] logits) {
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (float f : logits) {
            min = Math.min(min, f);
            max = Math.max(max, f);
        }
        assertTrue(max - min > 1f, "logits span only " + (max - min));
    }
}
