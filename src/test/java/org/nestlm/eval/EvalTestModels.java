package org.nestlm.eval;

import ai.djl.ndarray.NDManager;
import org.nestlm.io.DType;
import org.nestlm.model.Architecture;
import org.nestlm.model.NemotronH;
import org.nestlm.model.Presets;

import java.io.IOException;
import java.nio.file.Path;

/** A randomly initialised tiny checkpoint for evaluation tests. */
final class EvalTestModels {

    private EvalTestModels() {
    }

    static Path tiny(Path dir, long seed) throws IOException {
        try (NDManager m = NDManager.newBaseManager();
             NemotronH net = NemotronH.initialize(Architecture.fromConfig(Presets.get("tiny")), seed, m)) {
            net.save(dir, DType.F32);
        }
        return dir;
    }
}
