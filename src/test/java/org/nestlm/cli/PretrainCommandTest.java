package org.nestlm.cli;

import org.nestlm.cli.CliRun.Run;
import static org.nestlm.cli.CliRun.run;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nestlm.data.Corpora;
import org.nestlm.data.Split;
import org.nestlm.tokenizer.TokenCache;
import org.nestlm.tokenizer.TokenIds;
import org.nestlm.model.ConfigJson;
import org.nestlm.tokenizer.TextTokenizer;
import org.nestlm.train.TrainLog;
import org.nestlm.util.DjlRuntime;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code nestlm pretrain} end to end through the CLI: a tokenizer trained by the CLI on a small generated corpus, a
 * tiny model pretrained on it (the preset's vocab_size follows the tokenizer), the run directory checked, and
 * kill-and-resume giving the losses of an uninterrupted run.
 */
class PretrainCommandTest {

    static {
        DjlRuntime.configure();
    }

    @TempDir
    static Path dir;
    static Path corpus, tokenizer, cache;

    @BeforeAll
    static void corpusAndTokenizer() throws Exception {
        TokenizedCorpus t = TokenizedCorpus.make(dir, 1, 6000, 320);   // ~300 KB, one document
        corpus = t.corpus();
        tokenizer = t.tokenizer();
        cache = t.cache();
    }

    static List<String> args(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("pretrain", "--preset", "tiny", "--corpus", corpus.toString(), "--tokenizer",
                tokenizer.toString(), "--out", out.toString(), "--dir", cache.toString(), "--quiet", "--seq-len", "32",
                "--batch", "8", "--lr", "1e-2", "--warmup", "5", "--eval-batches", "4", "--seed", "3"));
        a.addAll(List.of(more));
        return a;
    }

    @Test
    void pretrainsATinyModelBelowTheUnigramEntropy() throws Exception {
        Path out = dir.resolve("run");
        Run r = run(args(out, "--tokens", Integer.toString(32 * 8 * 80), "--eval-every", "20", "--checkpoint-every", "40")
                .toArray(String[]::new));
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("vocab_size 512 -> 320"), r.out());   // the preset follows the tokenizer
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "log.jsonl", "loss.png",
                "train_state/state.json", "train_state/model.safetensors", "train_state/optimizer.safetensors")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing; output:\n" + r.out());
        }
        assertEquals(320, ConfigJson.read(out.resolve("config.json")).vocabSize());
        assertEquals(Files.readString(tokenizer), Files.readString(out.resolve("tokenizer.json")));
        JsonNode state = ConfigJson.MAPPER.readTree(out.resolve("train_state/state.json").toFile());
        assertEquals(80, state.get("step").asInt());
        assertEquals(corpus.toString(), state.get("run").get("corpus").get(0).asText());

        List<JsonNode> vals = new TrainLog(out).entries().stream().filter(e -> e.has("val_loss")).toList();
        assertEquals(4, vals.size());                                     // steps 20, 40, 60, 80
        double val = vals.getLast().get("val_loss").asDouble();
        double unigram;
        try (TextTokenizer tok = TextTokenizer.load(tokenizer);
             TokenIds ids = TokenCache.ids(cache, Corpora.open(List.of(corpus.toString()), cache), Split.VALIDATION, tok, false)) {
            unigram = unigramEntropy(ids);
        }
        assertTrue(val < unigram - 0.3, "validation loss " + val + " should be well below the unigram entropy " + unigram);
        assertTrue(vals.getLast().get("val_bpb").asDouble() > 0);
        assertTrue(vals.getFirst().get("val_loss").asDouble() > val, "validation loss should fall: " + vals);
    }

    @Test
    void killedRunResumesWithSavedSettings() throws Exception {
        String[] common = {"--tokens", Integer.toString(32 * 8 * 12), "--eval-every", "4", "--checkpoint-every", "4"};
        Path whole = dir.resolve("whole");
        assertEquals(0, run(args(whole, common).toArray(String[]::new)).code());

        Path killed = dir.resolve("killed");
        List<String> first = args(killed, common);
        first.addAll(List.of("--stop-after", "6"));                    // "killed" after step 6; last checkpoint at 4
        Run a = run(first.toArray(String[]::new));
        assertEquals(0, a.code(), a.err());
        assertTrue(a.out().contains("--resume"), a.out());
        List<JsonNode> beforeKill = new TrainLog(killed).entries();

        Run wrong = run("pretrain", "--out", killed.toString(), "--resume", "--lr", "0.5", "--dir", cache.toString());
        assertEquals(2, wrong.code());
        assertTrue(wrong.err().contains("--lr"), wrong.err());
        Run again = run(args(killed, common).toArray(String[]::new));   // without --resume: refused, nothing touched
        assertEquals(2, again.code());
        assertTrue(again.err().contains("--resume"), again.err());

        Run b = run("pretrain", "--out", killed.toString(), "--resume", "--dir", cache.toString(), "--quiet");
        assertEquals(0, b.code(), b.err() + b.out());
        assertTrue(b.out().contains("resuming"), b.out());
        assertEquals(6, beforeKill.size());
        org.nestlm.train.RunFiles.assertSameRun(whole, killed);
    }

    @Test
    void vocabularyMismatchWithAConfigIsAClearError() throws Exception {
        Path cfg = dir.resolve("cfg");
        assertEquals(0, run("init", "--preset", "tiny", "--out", cfg.toString()).code());   // vocab 512
        Path out = dir.resolve("mismatch");
        Run r = run("pretrain", "--config", cfg.resolve("config.json").toString(), "--corpus", corpus.toString(),
                "--tokenizer", tokenizer.toString(), "--tokens", "100000", "--out", out.toString(), "--dir", cache.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("vocab_size is 512") && r.err().contains("320"), r.err());
    }

    static double unigramEntropy(TokenIds ids) {
        long[] counts = new long[1 << 16];
        for (long i = 0; i < ids.size(); i++) {
            counts[ids.get(i)]++;
        }
        double h = 0, n = ids.size();
        for (long c : counts) {
            if (c > 0) {
                h -= c / n * Math.log(c / n);
            }
        }
        return h;
    }
}
