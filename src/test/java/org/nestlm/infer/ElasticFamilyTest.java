package org.nestlm.infer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.io.DType;
import org.nestlm.sizes.SizeChoice;
import org.nestlm.sizes.TrainedBudget;
import org.nestlm.slice.ElasticFixtures;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Every size of a family, trained or interpolated, reads one mapping of the weights with one thread pool. */
class ElasticFamilyTest {

    @TempDir
    Path dir;

    @Test
    void anInterpolatedSizeRunsOnTheFamilysMappingAndPool() throws Exception {
        Path model = ElasticFixtures.write(dir.resolve("el"), DType.BF16, 3);
        try (ElasticFamily family = ElasticFamily.open(model, null, 1)) {
            assertEquals(3, family.members().size(), "full, 75 %, 50 %");
            TrainedBudget t = family.sizes().resolve("60%");
            assertEquals(SizeChoice.Kind.INTERPOLATED, family.sizes().kindOf(t));
            LanguageModel m = family.member(t);
            assertEquals("el@60%", m.name());
            assertSame(t, m.budget());
            assertEquals(t.parameters(), m.engine().parameterCount());
            for (LanguageModel other : family.members()) {
                assertSame(family.checkpoint(), other.engine().checkpoint());
                assertSame(other.engine().parallel(), m.engine().parallel());
            }
            assertSame(family.checkpoint(), m.engine().checkpoint());
            assertSame(family.checkpoint(), family.sizes().checkpoint());
            SamplingParams p = new SamplingParams(3, 0, 0, 1, null, java.util.List.of(), true);
            assertEquals(3, m.generator().generate(new int[] {1, 2}, p, null).tokens().length);
        }
    }
}
