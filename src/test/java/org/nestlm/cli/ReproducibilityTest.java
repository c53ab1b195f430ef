package org.nestlm.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.cli.CliRun.Run;
import org.nestlm.train.RunFiles;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The same command with the same seed and thread count gives byte-identical files in fresh processes, whatever
 * the garbage collector, the heap size or glibc's {@code malloc.perturb} (which fills freed and new heap memory with
 * a byte pattern, so a read of memory that is no longer owned shows up at once) — docs/REPRODUCIBILITY.md §2.
 * Each run is a new JVM: the defect these settings expose lived in process history, which one JVM cannot vary.
 */
@Tag("slow")
class ReproducibilityTest {

    static {
        DjlRuntime.configure();
    }

    private static final long TIMEOUT_S = 600;

    /** A way of running the JVM: its options and environment. */
    record Setting(String name, List<String> jvm, Map<String, String> env) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Setting defaults() {
        return new Setting("defaults", List.of(), Map.of());
    }

    /** Collections all the time, and freed heap memory overwritten with {@code perturb}. */
    private static Setting smallHeap(int perturb) {
        String tunables = System.getenv().getOrDefault("GLIBC_TUNABLES", "");
        return new Setting("serial GC, 64 MiB heap, malloc.perturb=" + perturb, List.of("-XX:+UseSerialGC", "-Xmx64m"),
                Map.of("GLIBC_TUNABLES", (tunables.isEmpty() ? "" : tunables + ":") + "glibc.malloc.perturb=" + perturb));
    }

    /** No collection at all: nothing Java allocated is ever freed. */
    private static Setting noCollection() {
        return new Setting("no garbage collection", List.of("-XX:+UnlockExperimentalVMOptions", "-XX:+UseEpsilonGC", "-Xmx2g"),
                Map.of());
    }

    @TempDir
    static Path dir;
    static Path corpus, tokenizer, cache;

    @BeforeAll
    static void corpusAndTokenizer() throws Exception {
        TokenizedCorpus t = TokenizedCorpus.make(dir, 7, 3000, 300);   // ~150 KB, one document
        corpus = t.corpus();
        tokenizer = t.tokenizer();
        cache = t.cache();
    }

    private static Path fork(Setting s, Path out, List<String> args) throws Exception {
        Run r = CliRun.fork(s.jvm(), s.env(), TIMEOUT_S, args.toArray(String[]::new));
        assertEquals(0, r.code(), s + ": " + r.err() + r.out());
        return out;
    }

    private static List<String> pretrain(Path out, int threads) {
        return List.of("pretrain", "--preset", "tiny", "--corpus", corpus.toString(), "--tokenizer", tokenizer.toString(),
                "--out", out.toString(), "--dir", cache.toString(), "--quiet", "--seq-len", "32", "--batch", "8",
                "--accumulation", "2", "--tokens", Integer.toString(32 * 8 * 2 * 16), "--eval-every", "8",
                "--checkpoint-every", "8", "--eval-batches", "2", "--lr", "1e-2", "--warmup", "3", "--seed", "3",
                "--threads", Integer.toString(threads));
    }

    private static List<String> elastify(Path teacher, Path rankings, Path out, int threads) {
        return List.of("elastify", "--teacher", teacher.toString(), "--rankings", rankings.toString(),
                "--budgets", "1.0,0.75,0.5", "--corpus", corpus.toString(), "--cache-dir", cache.toString(),
                "--tokens", Integer.toString(16 * 4 * 3 * 14), "--seq-len", "16", "--stage2-multiplier", "2",
                "--batch", "4", "--eval-every", "4", "--checkpoint-every", "4", "--warmup", "2", "--seed", "5",
                "--out", out.toString(), "--threads", Integer.toString(threads));
    }

    @Test
    void pretrainImportanceAndElastifyRepeatByteForByte() throws Exception {
        // pretrain: at one thread under three settings, at two threads under two
        Path teacher = fork(defaults(), dir.resolve("p1"), pretrain(dir.resolve("p1"), 1));
        for (Setting s : List.of(smallHeap(165), noCollection())) {
            Path again = dir.resolve("p1-" + s.name().hashCode());
            RunFiles.assertSameRun(teacher, fork(s, again, pretrain(again, 1)));
        }
        Path two = fork(defaults(), dir.resolve("p2"), pretrain(dir.resolve("p2"), 2));
        Path twoAgain = dir.resolve("p2-again");
        RunFiles.assertSameRun(two, fork(smallHeap(90), twoAgain, pretrain(twoAgain, 2)));

        // importance: the rankings of two processes
        List<byte[]> rankings = new ArrayList<>();
        for (Setting s : List.of(defaults(), smallHeap(165))) {
            Path out = dir.resolve("rankings-" + rankings.size() + ".json");
            fork(s, out, List.of("importance", "--model", teacher.toString(), "--corpus", corpus.toString(),
                    "--cache-dir", cache.toString(), "--samples", "8", "--seq-len", "32", "--batch", "4",
                    "--depth-samples", "4", "--out", out.toString(), "--quiet", "--threads", "1"));
            rankings.add(Files.readAllBytes(out));
        }
        assertArrayEquals(rankings.get(0), rankings.get(1), "rankings.json of two processes");
        Path ranking = dir.resolve("rankings-0.json");

        // elastify, both stages and the router: at one thread and at two
        Path e1 = fork(defaults(), dir.resolve("e1"), elastify(teacher, ranking, dir.resolve("e1"), 1));
        Path e1Again = dir.resolve("e1-again");
        RunFiles.assertSameRun(e1, fork(smallHeap(165), e1Again, elastify(teacher, ranking, e1Again, 1)));
        Path e2 = fork(noCollection(), dir.resolve("e2"), elastify(teacher, ranking, dir.resolve("e2"), 2));
        Path e2Again = dir.resolve("e2-again");
        RunFiles.assertSameRun(e2, fork(smallHeap(90), e2Again, elastify(teacher, ranking, e2Again, 2)));
    }
}
