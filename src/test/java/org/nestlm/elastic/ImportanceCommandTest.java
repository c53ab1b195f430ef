package org.nestlm.elastic;

import org.nestlm.cli.CliRun.Run;
import org.nestlm.model.Tensors;
import static org.nestlm.cli.CliRun.run;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.model.Checkpoint;
import org.nestlm.model.LayerKind;
import org.nestlm.model.NemotronH;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.StringJoiner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nestlm importance} end to end on the tiny preset: rankings.json and a permuted checkpoint with the same logits. */
class ImportanceCommandTest {

    static {
        DjlRuntime.configure();
    }

    @TempDir
    Path dir;



    @Test
    void writesRankingsAndAnEquivalentPermutedCheckpoint() throws Exception {
        Path model = dir.resolve("tiny"), permuted = dir.resolve("tiny-permuted"), rankings = dir.resolve("r.json");
        Run init = run("init", "--preset", "tiny", "--out", model.toString(), "--seed", "3");
        assertEquals(0, init.code(), init.err());
        Random r = new Random(1);
        StringJoiner ids = new StringJoiner(" ");
        for (int i = 0; i < 600; i++) {
            ids.add(Integer.toString(r.nextInt(512)));
        }
        Path idsFile = dir.resolve("ids.txt");
        Files.writeString(idsFile, ids.toString());

        Run imp = run("importance", "--model", model.toString(), "--ids-file", idsFile.toString(), "--samples", "4",
                "--seq-len", "32", "--batch", "2", "--depth-samples", "2", "--out", rankings.toString(),
                "--permute-out", permuted.toString(), "--quiet");
        assertEquals(0, imp.code(), imp.err());
        assertTrue(imp.out().contains("depth removal order"), imp.out());

        try (Checkpoint src = Checkpoint.open(model); Checkpoint dst = Checkpoint.open(permuted);
             NDManager m = NDManager.newBaseManager()) {
            Rankings read = RankingsJson.read(rankings).validate(src.architecture(), rankings.toString());
            assertEquals(4, read.calibration().samples());
            assertEquals(32, read.calibration().seqLen());
            for (int layer : read.depth().removalOrder()) {
                assertTrue(src.architecture().layers().get(layer).kind() != LayerKind.ATTENTION, "protected by default");
            }
            Rankings carried = RankingsJson.read(permuted.resolve(RankingsJson.FILE));
            assertTrue(carried.isWidthIdentity(), "the permuted checkpoint carries identity width rankings");
            long[] x = new long[48];
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextInt(512);
            }
            try (NemotronH a = NemotronH.load(src, m); NemotronH b = NemotronH.load(dst, m)) {
                float[] la = a.forward(Tensors.of(m, x, new Shape(1, x.length))).toFloatArray();
                float[] lb = b.forward(Tensors.of(m, x, new Shape(1, x.length))).toFloatArray();
                for (int i = 0; i < la.length; i++) {
                    assertEquals(la[i], lb[i], 1e-5, "logit " + i);
                }
            }
        }

        Run bad = run("importance", "--model", model.toString(), "--ids-file", idsFile.toString(), "--min-attention", "0",
                "--protect-attention");
        assertEquals(2, bad.code(), "mutually exclusive options");
        Run noTok = run("importance", "--model", model.toString(), "--corpus", idsFile.toString(), "--no-depth");
        assertEquals(2, noTok.code());
        assertTrue(noTok.err().contains("no tokenizer.json"), noTok.err());
    }
}
