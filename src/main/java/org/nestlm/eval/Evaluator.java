package org.nestlm.eval;

import org.nestlm.data.Corpora;
import org.nestlm.data.Corpus;
import org.nestlm.tokenizer.TokenCache;
import org.nestlm.tokenizer.TokenIds;
import org.nestlm.tokenizer.TextTokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs held-out sets against models. Text goes through the token cache (so a set is encoded once per tokenizer, and
 * every model sharing that tokenizer scores exactly the same ids); word counts are computed once per set.
 */
public final class Evaluator {

    private final Path cacheDir;
    private final TextEval.Settings settings;
    private final int maxBlimpPairs;
    private final boolean progress;
    private final Map<String, Long> words = new HashMap<>();
    private final Map<String, List<BlimpPair>> blimp = new HashMap<>();

    /**
     * @param maxBlimpPairs {@code > 0}: only the first that many pairs of every paradigm
     */
    public Evaluator(Path cacheDir, TextEval.Settings settings, int maxBlimpPairs, boolean progress) {
        this.cacheDir = cacheDir;
        this.settings = settings;
        this.maxBlimpPairs = maxBlimpPairs;
        this.progress = progress;
    }

    /** Scores {@code model} on every set, with {@code tokenizerFile} (normally the one beside the weights). */
    public ModelResult evaluate(ModelScorer model, String budget, Path tokenizerFile, List<EvalData> data) throws IOException {
        List<TextScore> text = new ArrayList<>();
        List<BlimpScore> pairs = new ArrayList<>();
        try (TextTokenizer tok = TextTokenizer.load(tokenizerFile)) {
            for (EvalData d : data) {
                if (d.kind() == EvalData.Kind.BLIMP) {
                    List<BlimpPair> p = blimp.get(d.spec());
                    if (p == null) {
                        p = Blimp.read(Path.of(d.spec()));
                        blimp.put(d.spec(), p);
                    }
                    int sep = org.nestlm.tokenizer.SpecialTokens.eosId(tokenizerFile).orElse(-1);
                    pairs.add(Blimp.score(model, d.label(), p, tok, sep, maxBlimpPairs, progress));
                } else {
                    text.add(scoreText(model, d, tok));
                }
            }
        }
        return new ModelResult(model.label(), budget, model.parameters(), text, pairs);
    }

    private TextScore scoreText(ModelScorer model, EvalData d, TextTokenizer tok) throws IOException {
        Corpus corpus = Corpora.open(List.of(d.spec()), cacheDir);
        long w = wordsOf(d, corpus);
        try (TokenIds ids = TokenCache.ids(cacheDir, corpus, d.split(), tok, progress)) {
            long n = ids.size();
            if (n > Integer.MAX_VALUE - 1) {
                throw new IllegalArgumentException(d.label() + ": " + n + " tokens; evaluate a smaller text");
            }
            return TextEval.score(model, d.label(), i -> ids.get(i), (int) n, ids.info().separatorId(), ids.info().bytes(), w,
                    settings, progress);
        }
    }

    private long wordsOf(EvalData d, Corpus corpus) throws IOException {
        String key = d.spec() + "|" + d.split() + "|" + d.wikitext();
        Long w = words.get(key);
        if (w == null) {
            long[] n = new long[1];
            corpus.forEach(d.split(), doc -> n[0] += WordCount.words(doc.text(), d.wikitext()));
            w = n[0];
            words.put(key, w);
        }
        return w;
    }
}
