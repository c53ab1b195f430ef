package org.nestlm.sizes;

import org.junit.jupiter.api.Test;
import org.nestlm.io.DType;
import org.nestlm.model.ModelConfig;
import org.nestlm.slice.ElasticFixtures;
import org.nestlm.util.DjlRuntime;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Memory figures of sub-models against bytes counted by hand for the fixture's tiny hybrid config. */
class MemoryModelTest {

    static {
        DjlRuntime.configure();
    }

    @Test
    void footprintOfTheFixtureSizesMatchesHandCounts() {
        ModelConfig c = ElasticFixtures.config();   // M*-M-*M, 2 KV heads x 12, Mamba 2 groups, hd 8, N 8, K 4
        MemoryModel bf16 = new MemoryModel(DType.BF16, 100, 3);
        // full: 2 attention layers x K+V x 2 KV heads x 12 x 100 positions x 3 sequences x 2 bytes
        long kvFull = 2L * 2 * 2 * 12 * 100 * 3 * 2;
        // full Mamba layer: 6 heads x 8 x N 8 SSM + conv (48 + 2*2*8 = 80 channels) x K 4, fp32, 3 sequences; 3 layers
        long mambaFull = 3L * 3 * 4 * (6 * 8 * 8 + 80 * 4);
        MemoryModel.Footprint f = bf16.of(Subnet.full(ElasticFixtures.full()), c);
        assertEquals(kvFull, f.kvCache());
        assertEquals(mambaFull, f.mambaState());
        assertEquals(ElasticFixtures.full().parameterCount() * 2, f.weights());
        assertEquals(f.weights() + kvFull + mambaFull, f.total());

        // 50 %: layer 3 (Mamba) dropped, 1 Mamba head per group (2 heads), query heads cut but KV heads kept
        MemoryModel.Footprint h = bf16.of(ElasticFixtures.subnet(1), c);
        assertEquals(kvFull, h.kvCache());
        assertEquals(2L * 3 * 4 * (2 * 8 * 8 + (16 + 32) * 4), h.mambaState());
        assertEquals(ElasticFixtures.subnet(1).parameterCount(c) * 2, h.weights());

        // f32 doubles weights and KV, not the (always fp32) Mamba state
        MemoryModel.Footprint g = new MemoryModel(DType.F32, 100, 3).of(ElasticFixtures.subnet(1), c);
        assertEquals(2 * h.weights(), g.weights());
        assertEquals(2 * h.kvCache(), g.kvCache());
        assertEquals(h.mambaState(), g.mambaState());
    }

    @Test
    void parsesSizes() {
        assertEquals(2_000_000_000L, MemoryModel.parseBytes("2GB"));
        assertEquals(3L << 29, MemoryModel.parseBytes("1.5GiB"));
        assertEquals(512L << 20, MemoryModel.parseBytes("512 MiB"));
        assertEquals(1048576, MemoryModel.parseBytes("1048576"));
        assertEquals(500_000, MemoryModel.parseBytes("500k"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MemoryModel.parseBytes("2 parsecs"));
        assertEquals(true, e.getMessage().contains("2 parsecs"));
        assertThrows(IllegalArgumentException.class, () -> MemoryModel.parseBytes("-1GB"));
        assertThrows(IllegalArgumentException.class, () -> new MemoryModel(DType.BF16, 0, 1));
    }
}
