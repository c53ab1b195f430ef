package org.nestlm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.nestlm.model.TensorAssertions.assertClose;

/** The chunked SSD scan and the plain recurrence are the same function (docs/ARCHITECTURE.md §4.6, §7). */
class SsdTest extends org.nestlm.DjlTestBase {




    @ParameterizedTest(name = "L={0} chunk={1} groups={2} initial state={3}")
    @CsvSource({
            "37, 8, 2, false",     // several chunks, last one partial
            "37, 16, 1, false",
            "37, 64, 2, false",    // one chunk, shorter than chunk_size
            "50, 7, 2, true",      // carried-in state, odd chunk
            "1, 4, 2, true",       // single token
            "33, 1, 3, false",     // chunk of one token = the recurrence itself
            "64, 16, 2, true",     // exact multiple of the chunk
    })
    void chunkedEqualsSequential(int len, int chunk, int groups, boolean withInit) {
        try (NDManager m = manager.newSubManager()) {
            int b = 2, h = 6, p = 5, n = 4;
            m.getEngine().setRandomSeed(len * 31 + chunk);
            NDArray x = m.randomNormal(new Shape(b, len, h, p));
            // dt in (0, ~0.7] and A in [-16, -1]: the realistic range (decays from ~1 to ~1e-5 per step)
            NDArray dt = ai.djl.nn.Activation.softPlus(m.randomNormal(-2f, 1f, new Shape(b, len, h), ai.djl.ndarray.types.DataType.FLOAT32));
            NDArray a = m.randomUniform(1f, 16f, new Shape(h)).neg();
            NDArray bm = m.randomNormal(new Shape(b, len, groups, n));
            NDArray cm = m.randomNormal(new Shape(b, len, groups, n));
            NDArray init = withInit ? m.randomNormal(new Shape(b, h, p, n)) : null;

            Ssd.Result chunked = Ssd.chunked(x, dt, a, bm, cm, chunk, init);
            Ssd.Result seq = Ssd.sequential(x, dt, a, bm, cm, init);

            assertClose(seq.y(), chunked.y(), 2e-5, "y");
            assertClose(seq.finalState(), chunked.finalState(), 2e-5, "final state");
        }
    }
}
