package org.nestlm.infer;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Self-speculative decoding with a nested draft model (a smaller budget of the same elastic checkpoint, so
 * draft and target share every weight they both use). Each round:
 * <ol>
 *   <li>the draft decodes {@code k} tokens d₁…d_k from the pending token x, one step at a time, remembering its
 *       distributions q₁…q_k;</li>
 *   <li>the target runs [x, d₁…d_k] in one batched forward (one pass over its weights for k+1 tokens), giving
 *       p₁…p_{k+1};</li>
 *   <li>d_i is accepted with probability min(1, p_i(d_i)/q_i(d_i)) (greedy: when it is the target's argmax); at
 *       the first rejection a token is drawn from norm(max(0, p_i − q_i)) (greedy: the target's argmax), and
 *       if all k are accepted a bonus token comes from p_{k+1}. This is standard speculative sampling
 *       (Leviathan et al. 2023; Chen et al. 2023): the output distribution is exactly the target's.</li>
 * </ol>
 * Both states then keep only the accepted prefix: attention layers drop KV positions; Mamba layers, whose
 * state cannot be un-updated, take the copy traced after that token ({@link InferenceState#beginTrace}).
 *
 * <p>Invariant between rounds: target and draft have consumed every token except the pending one.
 */
final class SpeculativeDecoder implements Decoder {

    private final Engine target, draft;
    private final InferenceState ts, ds;
    private final Sampler sampler;
    private final int k;
    private final ArrayDeque<Integer> ready = new ArrayDeque<>();
    private final SpeculativeStats stats;
    private int pending = -1;

    SpeculativeDecoder(Engine target, InferenceState ts, Engine draft, Sampler sampler, int k, SpeculativeStats stats) {
        if (k < 1) {
            throw new IllegalArgumentException("draft length must be at least 1, got " + k);
        }
        if (target.vocabSize() != draft.vocabSize()) {
            throw new IllegalArgumentException("draft and target vocabularies differ");
        }
        this.target = target;
        this.draft = draft;
        this.ts = ts;
        this.ds = draft.newState();
        this.sampler = sampler;
        this.k = k;
        this.stats = stats;
    }

    public void prefill(int[] prompt) {
        if (ts.position() != 0) {
            throw new IllegalArgumentException("speculative decoding starts from a fresh state");
        }
        int n = prompt.length;
        if (n > 1) {
            int[] head = Arrays.copyOf(prompt, n - 1);
            target.forward(ts, head, false);
            draft.forward(ds, head, false);
        }
        pending = prompt[n - 1];
    }

    public int next() {
        if (ready.isEmpty()) {
            round();
        }
        return ready.poll();
    }

    private void round() {
        int vocab = target.vocabSize();
        boolean greedy = sampler.greedy();
        int startT = ts.position(), startD = ds.position();
        // 1. draft k tokens
        int[] d = new int[k];
        double[][] q = new double[k][];
        ds.beginTrace();
        int x = pending;
        for (int i = 0; i < k; i++) {
            float[] logits = draft.step(ds, x);
            if (greedy) {
                d[i] = Sampler.argmax(logits, 0, vocab);
            } else {
                q[i] = sampler.distribution(logits, 0, vocab);
                d[i] = sampler.draw(q[i]);
            }
            x = d[i];
        }
        // 2. verify all k in one target pass: logits [k+1, V]
        int[] in = new int[k + 1];
        in[0] = pending;
        System.arraycopy(d, 0, in, 1, k);
        ts.beginTrace();
        float[] p = target.forward(ts, in, true);
        // 3. accept a prefix, then one token from the target
        int a = 0, next = -1;
        for (; a < k; a++) {
            if (greedy) {
                int t = Sampler.argmax(p, a * vocab, vocab);
                if (t != d[a]) {
                    next = t;
                    break;
                }
            } else {
                double[] pa = sampler.distribution(p, a * vocab, vocab);
                SpeculativeSampling.Outcome o = SpeculativeSampling.verify(pa, q[a], d[a], sampler.uniform(), sampler.uniform());
                if (!o.accepted()) {
                    next = o.token();
                    break;
                }
            }
        }
        if (a == k) {
            next = greedy ? Sampler.argmax(p, k * vocab, vocab) : sampler.draw(sampler.distribution(p, k * vocab, vocab));
        }
        // 4. keep pending + the accepted drafts in both states
        ts.rollback(startT + 1 + a);
        if (a == k) {
            ds.endTrace();
            draft.step(ds, d[k - 1]);   // the draft never consumed its own last proposal
        } else {
            ds.rollback(startD + 1 + a);
        }
        for (int i = 0; i < a; i++) {
            ready.add(d[i]);
        }
        ready.add(next);
        pending = next;
        stats.add(k, a);
    }
}
