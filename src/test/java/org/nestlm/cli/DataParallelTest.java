package org.nestlm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.dist.MpiJobs;
import org.nestlm.model.ConfigJson;
import org.nestlm.train.RunDirectory;
import org.nestlm.train.RunFiles;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mpirun -np 2 nestlm pretrain}, {@code importance} and {@code elastify} on loopback against one process with
 * the same settings: the same global micro-batches, budget draws and loss scaling, the gradients of a step's two
 * micro-batches summed by {@code MPI_Allreduce} instead of by accumulation (importance: the calibration batches
 * split), so every file of the run must be byte-identical. Also: ranks started with different settings, and a rank
 * killed in the middle of a pretraining or an elastify run (the job ends; resumed on 2 ranks it ends as the
 * uninterrupted run).
 *
 * <p>Every run is a fresh JVM (as {@code mpirun} starts them), with the test's class path. Skipped where Open MPI
 * is not installed, unless {@code NESTLM_REQUIRE_MPI=1} (CI) makes that a failure.
 */
@Tag("slow")
class DataParallelTest {

    /** Per process: a small heap, so that garbage collection runs often during the runs compared. */
    static final List<String> JVM_OPTS = List.of("-XX:+UseSerialGC", "-Xmx256m");
    static final long TIMEOUT_S = 240;

    @TempDir
    static Path dir;
    static Path corpus, tokenizer, cache, single;

    @BeforeAll
    static void openMpiCorpusAndOneProcessRun() throws Exception {
        MpiJobs.requireMpirun();
        corpus = dir.resolve("corpus.txt");
        Files.writeString(corpus, org.nestlm.data.GrammarText.text(1, 3000), StandardCharsets.UTF_8);
        tokenizer = dir.resolve("tok.json");
        cache = dir.resolve("cache");
        CliRun.Run r = CliRun.run("tokenizer", "train", "--vocab", "300", "--corpus", corpus.toString(), "--out",
                tokenizer.toString(), "--quiet", "--dir", cache.toString());
        assertEquals(0, r.code(), r.err());
        single = dir.resolve("single");
        fork(args(single));
    }

    /** 12 steps of 2 micro-batches; validation and checkpoints every 4 steps. */
    static List<String> args(Path out, String... more) {
        return args(out, 2, 12, "1e-2", more);
    }

    static List<String> args(Path out, int accumulation, int steps, String lr, String... more) {
        List<String> a = new ArrayList<>(List.of("pretrain", "--preset", "tiny", "--corpus", corpus.toString(),
                "--tokenizer", tokenizer.toString(), "--out", out.toString(), "--dir", cache.toString(), "--quiet",
                "--seq-len", "32", "--batch", "4", "--accumulation", Integer.toString(accumulation),
                "--tokens", Integer.toString(32 * 4 * accumulation * steps), "--lr", lr, "--warmup", "3",
                "--eval-every", "4", "--eval-batches", "2", "--checkpoint-every", "4", "--threads", "1", "--seed", "5"));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void twoRanksGiveTheBytesOfOneProcess() throws Exception {
        Path two = dir.resolve("two");
        MpiJobs.Result r = exec(mpirun(2, java(args(two))), dir.resolve("two.txt"));
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("ranks     2 (MPI)"), "not a 2-rank run:\n" + r.output());
        RunFiles.assertSameRun(single, two);
    }

    /**
     * Four ranks, one micro-batch each: the gradients are summed in rank order, ((g0 + g1) + g2) + g3, the order in
     * which one process accumulates its four micro-batches, so the bytes are one process's too (an all-reduce that
     * grouped them (g0 + g2) + (g1 + g3) rounded otherwise in the last bits, which AdamW's division by √v + ε
     * magnified to 1e-6 of the weights within six steps).
     */
    @Test
    void fourRanksGiveTheBytesOfOneProcess() throws Exception {
        Path one = dir.resolve("one-4"), ranks = dir.resolve("four");
        fork(args(one, 4, 6, "3e-3"));
        MpiJobs.Result r = exec(mpirun(4, java(args(ranks, 4, 6, "3e-3"))), dir.resolve("four.txt"));
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("ranks     4 (MPI)"), r.output());
        RunFiles.assertSameRun(one, ranks);
    }

    static final List<String> IMPORTANCE_OPTIONS = List.of("--samples", "12", "--seq-len", "32", "--batch", "4",
            "--depth-samples", "4", "--quiet", "--threads", "1", "--permute-out");

    /** 6 steps of stage 1 (2 micro-batches each), validation and checkpoints every 4 steps. */
    static List<String> elastify(Path rankings, Path out) {
        return List.of("elastify", "--teacher", single.toString(), "--rankings", rankings.toString(),
                "--budgets", "1.0,0.75,0.5", "--corpus", corpus.toString(), "--cache-dir", cache.toString(),
                "--tokens", Integer.toString(16 * 4 * 2 * 8), "--seq-len", "16", "--stage2-multiplier", "2", "--batch", "4",
                "--accumulation", "2", "--eval-every", "4", "--checkpoint-every", "4", "--warmup", "2", "--seed", "5",
                "--threads", "1", "--out", out.toString());
    }

    static Path rankings1, elastic1;

    /** One process's importance rankings of the pretrained model (made once for the tests that need them). */
    static synchronized Path rankings() throws Exception {
        if (rankings1 == null) {
            Path r = dir.resolve("rankings-1.json");
            fork(importance(dir.resolve("permuted-1"), r));
            rankings1 = r;
        }
        return rankings1;
    }

    /** One process's elastify run from those rankings (made once). */
    static synchronized Path elastic() throws Exception {
        if (elastic1 == null) {
            Path e = dir.resolve("elastic-1");
            fork(elastify(rankings(), e));
            elastic1 = e;
        }
        return elastic1;
    }

    static List<String> importance(Path permuted, Path rankings) {
        List<String> a = new ArrayList<>(List.of("importance", "--model", single.toString(), "--corpus", corpus.toString(),
                "--cache-dir", cache.toString()));
        a.addAll(IMPORTANCE_OPTIONS);
        a.addAll(List.of(permuted.toString(), "--out", rankings.toString()));
        return a;
    }

    @Test
    void importanceAndElastifyOnTwoRanksGiveTheBytesOfOneProcess() throws Exception {
        Path r2 = dir.resolve("rankings-2.json"), p2 = dir.resolve("permuted-2");
        MpiJobs.Result r = exec(mpirun(2, java(importance(p2, r2))), dir.resolve("importance-2.txt"));
        assertEquals(0, r.code(), r.output());
        assertEquals(Files.readString(rankings()), Files.readString(r2), "rankings.json of 2 ranks (3 batches: 2 on rank 0, 1 on rank 1)");
        RunFiles.assertSameRun(dir.resolve("permuted-1"), p2);            // the permuted checkpoint, written by rank 0

        Path e2 = dir.resolve("elastic-2");
        MpiJobs.Result e = exec(mpirun(2, java(elastify(rankings(), e2))), dir.resolve("elastify-2.txt"));
        assertEquals(0, e.code(), e.output());
        RunFiles.assertSameRun(elastic(), e2);
    }

    /**
     * Elastify on 2 ranks, rank 1 killed (SIGKILL) once the checkpoint of step 4 is in place, then resumed on 2 ranks:
     * the files of the uninterrupted run, router and optimizer state included. Rank 1 is stopped (SIGSTOP) as soon as
     * step 4 is logged: it cannot then get past step 5, which needs rank 0, busy writing the checkpoint of step 4.
     */
    @Test
    void aKilledElastifyResumesOnTwoRanksToTheUninterruptedRun() throws Exception {
        Path run = dir.resolve("elastic-killed");
        Path state = RunDirectory.state(run).resolve("state.json");
        List<String> cmd = java(elastify(rankings(), run));
        String rank1 = shell(cmd) + " & p=$!; while [ \"$(cat " + run.resolve("log.jsonl") + " 2>/dev/null | wc -l)\" -lt 4 ]; "
                + "do sleep 0.05; done; kill -STOP $p; while [ ! -f " + state + " ]; do sleep 0.05; done; kill -9 $p; wait $p";
        String script = "if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then " + rank1 + "; else exec " + shell(cmd) + "; fi";
        MpiJobs.Result r = exec(mpirun(2, List.of("sh", "-c", script)), dir.resolve("elastic-killed.txt"));
        assertNotEquals(0, r.code(), "mpirun must fail when a rank dies:\n" + r.output());
        int step = ConfigJson.MAPPER.readTree(state.toFile()).get("step").asInt();
        assertTrue(step == 4, "the last checkpoint is step 4 of 6, not " + step);
        MpiJobs.Result b = exec(mpirun(2, java(concat(elastify(rankings(), run), "--resume"))),
                dir.resolve("elastic-killed-b.txt"));
        assertEquals(0, b.code(), b.output());
        assertTrue(b.output().contains("resuming " + run + " at step 4"), b.output());
        RunFiles.assertSameRun(elastic(), run);
    }

    @Test
    void ranksWithDifferentSettingsStopWithAMessage() throws Exception {
        Path run = dir.resolve("disagree");
        List<String> cmd = new ArrayList<>(mpirun(1, java(args(run))));   // MPMD: rank 1 has another weight decay
        cmd.add(":");
        cmd.addAll(List.of("-np", "1"));
        cmd.addAll(java(args(run, "--weight-decay", "0.05")));
        MpiJobs.Result r = exec(cmd, dir.resolve("disagree.txt"));
        assertNotEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("the 2 ranks disagree on the run's settings"), r.output());
        assertFalse(Files.exists(RunDirectory.state(run)), "nothing trained, nothing saved");
    }

    @Test
    void aKilledRankEndsTheJobAndTheRunResumes() throws Exception {
        Path run = dir.resolve("killed");
        Path log = run.resolve("log.jsonl");
        // rank 1 is killed (SIGKILL) once rank 0 has logged 5 steps (after the checkpoint of step 4)
        String rank1 = shell(java(args(run))) + " & p=$!; while [ \"$(cat " + log + " 2>/dev/null | wc -l)\" -lt 5 ]; do "
                + "sleep 0.05; done; kill -9 $p; wait $p";
        String script = "if [ \"$OMPI_COMM_WORLD_RANK\" = 1 ]; then " + rank1 + "; else exec " + shell(java(args(run))) + "; fi";
        MpiJobs.Result r = exec(mpirun(2, List.of("sh", "-c", script)), dir.resolve("killed.txt"));
        assertNotEquals(0, r.code(), "mpirun must fail when a rank dies:\n" + r.output());
        JsonNode state = ConfigJson.MAPPER.readTree(RunDirectory.state(run).resolve("state.json").toFile());
        assertTrue(state.get("step").asInt() >= 4 && state.get("step").asInt() < 12, "last checkpoint " + state);
        MpiJobs.Result b = exec(mpirun(2, java(List.of("pretrain", "--out", run.toString(), "--resume", "--dir", cache.toString(),
                "--threads", "1", "--quiet"))), dir.resolve("killed-b.txt"));
        assertEquals(0, b.code(), b.output());
        RunFiles.assertSameRun(single, run);
    }

    static void fork(List<String> args) throws Exception {
        CliRun.Run r = CliRun.fork(JVM_OPTS, Map.of("OMP_WAIT_POLICY", "PASSIVE"), TIMEOUT_S, args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err() + r.out());
    }

    static List<String> concat(List<String> a, String last) {
        List<String> c = new ArrayList<>(a);
        c.add(last);
        return c;
    }

    static List<String> java(List<String> args) {
        return CliRun.javaCommand(JVM_OPTS, args.toArray(String[]::new));
    }

    static String shell(List<String> words) {
        return words.stream().map(w -> "'" + w.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
    }

    static MpiJobs.Result exec(List<String> command, Path file) throws Exception {
        return MpiJobs.exec(command, file, TIMEOUT_S, Map.of());
    }

    static List<String> mpirun(int ranks, List<String> command) {
        return MpiJobs.mpirun(ranks, command);
    }
}
