package org.nestlm.infer;

import org.nestlm.sizes.Subnet;
import org.nestlm.model.Checkpoint;
import org.nestlm.slice.SlicePlan;
import org.nestlm.model.Architecture;
import org.nestlm.model.LayerSpec;
import org.nestlm.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The pure-Java Nemotron-H forward pass (docs/ARCHITECTURE.md §4), fp32 activations over weights read in
 * place from the checkpoint mapping:
 * <pre>
 *   h = E[ids]
 *   for each layer i:  h = h + mixer_i(RMSNorm(h; layers.i.norm))
 *   logits = RMSNorm(h; norm_f) · lm_headᵀ
 * </pre>
 * One code path serves prefill, decode and continuous batching: a pass takes the tokens of one or several
 * sequences (a prompt piece, or one token each), runs every projection as one matrix-times-rows product over
 * all of them (T = 1 is single-stream decode) and the recurrent parts — Mamba conv and scan, attention over
 * each sequence's KV cache — per sequence, token by token. The Mamba scan is the sequential recurrence, which
 * equals the chunked SSD up to rounding (§7). Thread-safe for concurrent calls on different states.
 */
public final class Engine implements AutoCloseable {

    /** Longer prompts are run in pieces of this many tokens (state carried), bounding activation memory. */
    static final int PREFILL_PIECE = 256;

    private final Checkpoint checkpoint;
    private final boolean ownsCheckpoint;
    private final Parallel parallel;
    private final boolean ownsParallel;
    private final ModelWeights weights;
    private final ModelConfig config;
    private final Kernels kernels = Kernels.get();
    private final SlicePlan plan;   // null: the whole checkpoint
    private final boolean quantized;

    private Engine(Checkpoint checkpoint, boolean ownsCheckpoint, Parallel parallel, boolean ownsParallel, Subnet subnet)
            throws IOException {
        this(checkpoint, ownsCheckpoint, parallel, ownsParallel, subnet, false);
    }

    private Engine(Checkpoint checkpoint, boolean ownsCheckpoint, Parallel parallel, boolean ownsParallel, Subnet subnet,
                   boolean q8) throws IOException {
        this.checkpoint = checkpoint;
        this.ownsCheckpoint = ownsCheckpoint;
        this.parallel = parallel;
        this.ownsParallel = ownsParallel;
        this.plan = subnet == null ? null : SlicePlan.of(checkpoint.architecture(), subnet);
        this.weights = ModelWeights.load(checkpoint, plan, q8);
        this.quantized = q8;
        this.config = weights.architecture().config();
    }

    /** Opens a checkpoint directory; the engine owns the mapping and a pool of {@code threads} threads. */
    public static Engine open(Path dir, int threads) throws IOException {
        return open(dir, threads, null);
    }

    /**
     * Opens a checkpoint directory and runs the nested sub-model {@code subnet} of it (null: the whole model)
     * from views of the full mapped weights; the engine owns the mapping and the pool.
     */
    public static Engine open(Path dir, int threads, Subnet subnet) throws IOException {
        Checkpoint ckpt = Checkpoint.open(dir);
        try {
            return new Engine(ckpt, true, new Parallel(threads), true, subnet);
        } catch (IOException | RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    /** An engine over an open checkpoint and pool, both owned by the caller. */
    public static Engine of(Checkpoint checkpoint, Parallel parallel) throws IOException {
        return new Engine(checkpoint, false, parallel, false, null);
    }

    /**
     * The nested sub-model {@code subnet} of an open (elastic) checkpoint, read through views of its mapping:
     * any number of such engines share one copy of the weights. Checkpoint and pool stay the caller's.
     */
    public static Engine of(Checkpoint checkpoint, Parallel parallel, Subnet subnet) throws IOException {
        return new Engine(checkpoint, false, parallel, false, subnet);
    }

    /**
     * As {@link #of(Checkpoint, Parallel, Subnet)}; with {@code q8} the projections and lm_head are quantised to
     * int8 at load (groups of {@link WeightMatrix#Q8_GROUP} columns, one scale each): a copy of about half the
     * BF16 size, read instead of the mapping.
     */
    public static Engine of(Checkpoint checkpoint, Parallel parallel, Subnet subnet, boolean q8) throws IOException {
        return new Engine(checkpoint, false, parallel, false, subnet, q8);
    }

    /** True when the weights were quantised to int8 at load. */
    public boolean quantized() {
        return quantized;
    }

    /** The sub-model this engine runs, or null when it runs the whole checkpoint. */
    public Subnet subnet() {
        return plan == null ? null : plan.sub();
    }

    /** Parameters of the model this engine runs (the sub-model's, at a budget). */
    public long parameterCount() {
        return weights.architecture().parameterCount();
    }

    Parallel parallel() {
        return parallel;
    }

    public ModelConfig config() {
        return config;
    }

    public Architecture architecture() {
        return weights.architecture();
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    public int vocabSize() {
        return config.vocabSize();
    }

    public int threads() {
        return parallel.threads();
    }

    /** True when the SIMD kernels are in use (the JVM has {@code jdk.incubator.vector}). */
    public static boolean vectorized() {
        return Kernels.vectorized();
    }

    /** Bytes of weights one decoded token reads (all layer matrices, lm_head, one embedding row). */
    public long weightBytesPerToken() {
        return weights.bytesPerToken();
    }

    /** The longest sequence the model is meant for ({@code max_position_embeddings}; NoPE does not enforce it). */
    public int contextLimit() {
        return config.maxPositionEmbeddings() > 0 ? config.maxPositionEmbeddings() : Integer.MAX_VALUE;
    }

    /** An empty state for one new sequence. */
    public InferenceState newState() {
        List<LayerState> layers = new ArrayList<>();
        for (LayerSpec s : weights.architecture().layers()) {
            layers.add(switch (s) {
                case LayerSpec.Mamba m -> new LayerState.Mamba(m.convDim(config), config.convKernel(), m.heads(),
                        m.headDim(), config.ssmStateSize());
                case LayerSpec.Attention a -> new LayerState.KeyValue(a.kvHeads() * a.headDim(), 64);
                case LayerSpec.Mlp m -> LayerState.None.INSTANCE;
            });
        }
        return new InferenceState(layers);
    }

    /**
     * An upper bound on the bytes of decode state one sequence of {@code positions} tokens holds: every Mamba
     * layer's conv window and SSM state, and every attention layer's KV cache (which grows by doubling, so up
     * to twice the positions).
     */
    public long stateBytes(int positions) {
        long bytes = 0;
        long capacity = Math.max(64L, 2L * positions);
        for (LayerSpec s : weights.architecture().layers()) {
            bytes += switch (s) {
                case LayerSpec.Mamba m -> 4L * ((long) m.convDim(config) * config.convKernel()
                        + (long) m.heads() * m.headDim() * config.ssmStateSize());
                case LayerSpec.Attention a -> 4L * 2 * a.kvHeads() * a.headDim() * capacity;
                case LayerSpec.Mlp m -> 0L;
            };
        }
        return bytes;
    }

    /** Decodes one token: logits [V] for the next position; the state advances by one. */
    public float[] step(InferenceState state, int token) {
        return forward(state, new int[] {token}, false);
    }

    /**
     * Feeds {@code tokens} (prefill, or one token for decode) after what {@code state} has consumed, and
     * advances it.
     *
     * @param allLogits true: logits of every position, [T, V] row-major; false: of the last one only, [V]
     * @throws IllegalArgumentException for an empty input or a token id outside the vocabulary
     */
    public float[] forward(InferenceState state, int[] tokens, boolean allLogits) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException("no tokens to run");
        }
        checkIds(tokens);
        int vocab = config.vocabSize();
        float[] logits = new float[(allLogits ? tokens.length : 1) * vocab];
        for (int start = 0; start < tokens.length; start += PREFILL_PIECE) {
            int n = Math.min(PREFILL_PIECE, tokens.length - start);
            boolean last = start + n == tokens.length;
            float[] h = hidden(new Segment[] {new Segment(state, tokens, start, n, 0)}, n);   // [n, H]
            if (allLogits) {
                head(h, new int[] {0}, n, logits, start * vocab);
            } else if (last) {
                head(h, new int[] {n - 1}, 1, logits, 0);
            }
        }
        return logits;
    }

    /**
     * One pass over several sequences of this model (continuous batching): sequence {@code i} consumes
     * {@code inputs[i]} after what {@code states[i]} holds — one token to decode, or a piece of its prompt —
     * at its own position and context length. Every projection runs once over the rows of all sequences
     * together ([Σ n_i, in] × Wᵀ: each weight is read from memory once per pass, not once per sequence); the
     * Mamba conv and scan and attention over the KV cache run per sequence. A sequence's logits are those it
     * gets from {@link #forward(InferenceState, int[], boolean)} alone (each row of a product is formed the same
     * way whatever shares it).
     *
     * @return the logits after each sequence's last input, [B, V] row-major (row i for sequence i)
     * @throws IllegalArgumentException for an empty input, a token id outside the vocabulary, or one state given twice
     */
    public float[] forward(InferenceState[] states, int[][] inputs) {
        if (states.length != inputs.length) {
            throw new IllegalArgumentException(states.length + " states for " + inputs.length + " inputs");
        }
        int b = states.length;
        Segment[] segs = new Segment[b];
        int[] lastRows = new int[b];
        java.util.Set<InferenceState> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        int rows = 0;
        for (int i = 0; i < b; i++) {
            if (inputs[i].length == 0) {
                throw new IllegalArgumentException("sequence " + i + " has no tokens to run");
            }
            if (!seen.add(states[i])) {
                throw new IllegalArgumentException("sequence " + i + "'s state is given twice in one pass");
            }
            checkIds(inputs[i]);
            segs[i] = new Segment(states[i], inputs[i], 0, inputs[i].length, rows);
            rows += inputs[i].length;
            lastRows[i] = rows - 1;
        }
        float[] logits = new float[b * config.vocabSize()];
        if (b == 0) {
            return logits;
        }
        float[] h = hidden(segs, rows);
        head(h, lastRows, 1, logits, 0);
        return logits;
    }

    private void checkIds(int[] tokens) {
        int vocab = config.vocabSize();
        for (int id : tokens) {
            if (id < 0 || id >= vocab) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
    }

    /**
     * One sequence's share of a pass: {@code tokens[from, from + n)} fed to {@code state}, occupying rows
     * {@code [row, row + n)} of the pass's activations.
     */
    private record Segment(InferenceState state, int[] tokens, int from, int n, int row) {
    }

    /** The residual stream after the last block for all rows of a pass: [rows, H]; every state advances. */
    private float[] hidden(Segment[] segs, int rows) {
        int hs = weights.architecture().hiddenSize();
        float[] h = new float[rows * hs];                                                  // [rows, H]
        for (Segment sg : segs) {
            for (int t = 0; t < sg.n; t++) {
                weights.embeddings().row(sg.tokens[sg.from + t], h, (sg.row + t) * hs);
            }
        }
        float eps = (float) config.layerNormEpsilon();
        float[] u = new float[rows * hs];
        float[] out = new float[rows * hs];
        for (int i = 0; i < weights.layers().size(); i++) {
            LayerWeights lw = weights.layers().get(i);
            for (int t = 0; t < rows; t++) {
                rmsNorm(h, t * hs, hs, lw.norm(), eps, u, t * hs);
            }
            switch (lw) {
                case LayerWeights.Mamba m -> mamba(m, i, segs, u, rows, out);
                case LayerWeights.Attention a -> attention(a, i, segs, u, rows, out);
                case LayerWeights.Mlp m -> mlp(m, u, rows, out);
            }
            for (int j = 0; j < h.length; j++) {
                h[j] += out[j];
            }
        }
        for (Segment sg : segs) {
            sg.state.advance(sg.n);
        }
        return h;
    }

    /**
     * logits[outOff + (k·count + t)·V] = RMSNorm(h[from[k] + t]; norm_f) · lm_headᵀ for every start row
     * {@code from[k]} and t in [0, count).
     */
    private void head(float[] h, int[] from, int count, float[] logits, int outOff) {
        int hs = weights.architecture().hiddenSize();
        int n = from.length * count;
        float[] x = new float[n * hs];
        for (int k = 0; k < from.length; k++) {
            for (int t = 0; t < count; t++) {
                rmsNorm(h, (from[k] + t) * hs, hs, weights.normF(), (float) config.layerNormEpsilon(), x, (k * count + t) * hs);
            }
        }
        int vocab = config.vocabSize();
        float[] y = outOff == 0 && logits.length == n * vocab ? logits : new float[n * vocab];
        weights.lmHead().matmul(x, n, y, parallel);
        if (y != logits) {
            System.arraycopy(y, 0, logits, outOff, n * vocab);
        }
    }

    /**
     * Mamba-2 mixer over the rows of a pass (§4.2 as the recurrence of §4.7), steps numbered as in the format
     * document. u [rows, H] → out [rows, H]; each sequence's conv and SSM state advance by its tokens.
     */
    private void mamba(LayerWeights.Mamba w, int layer, Segment[] segs, float[] u, int n, float[] out) {
        LayerSpec.Mamba s = w.spec();
        int inner = s.innerSize(), nh = s.heads(), hd = s.headDim();
        int groups = config.nGroups(), ns = config.ssmStateSize(), k = config.convKernel();
        int gn = groups * ns;
        int convDim = inner + 2 * gn;                     // x | B | C
        int rows = 2 * inner + 2 * gn + nh;               // z | x | B | C | dt
        int headsPerGroup = nh / groups;

        // 1. in_proj for all rows at once: [n, 2I + 2GN + nh]
        float[] zx = new float[n * rows];
        w.inProj().matmul(u, n, zx, parallel);
        addBias(zx, n, rows, w.inBias());

        float[] act = new float[n * convDim];             // SiLU(conv(x|B|C)) per row
        float[] dt = new float[n * nh];
        LayerState.Mamba[] st = new LayerState.Mamba[segs.length];
        float[][][] ssmSnaps = new float[segs.length][][]; // while tracing: the SSM state after each token
        int maxTokens = 0;
        for (int q = 0; q < segs.length; q++) {
            Segment sg = segs[q];
            LayerState.Mamba m = (LayerState.Mamba) sg.state.layer(layer);
            st[q] = m;
            maxTokens = Math.max(maxTokens, sg.n);
            float[] conv = m.conv, convW = w.convW();
            for (int t = 0; t < sg.n; t++) {
                int r = sg.row + t, base = r * rows, ao = r * convDim;
                // 2. roll the conv window by one input (one copy: taps are rows), then the depthwise kernel over all
                //    channels at once: act[c] = SiLU(Σ_k window[k, c]·w[k, c] + b[c])
                System.arraycopy(conv, convDim, conv, 0, (k - 1) * convDim);
                System.arraycopy(zx, base + inner, conv, (k - 1) * convDim, convDim);
                if (w.convB() != null) {
                    System.arraycopy(w.convB(), 0, act, ao, convDim);
                }
                for (int j = 0; j < k; j++) {
                    kernels.mulAdd(conv, j * convDim, convW, j * convDim, act, ao, convDim);
                }
                kernels.silu(act, ao, convDim);
                // 3. dt = softplus(dt_raw + dt_bias) (threshold 20), clamped to time_step_limit only when it is a real clamp
                for (int hh = 0; hh < nh; hh++) {
                    float v = softplus(zx[base + inner + convDim + hh] + w.dtBias()[hh]);
                    if (config.clampsTimeStep()) {
                        v = (float) Math.min(Math.max(v, config.timeStepLimitMin()), config.timeStepLimitMax());
                    }
                    dt[r * nh + hh] = v;
                }
                if (m.convTrace != null) {
                    m.convTrace.add(conv.clone());
                }
            }
            if (m.ssmTrace != null) {
                ssmSnaps[q] = new float[sg.n][m.ssm.length];
            }
        }
        // 4. per (sequence, head), token by token:
        //    state_h ← exp(dt_h·A_h)·state_h + dt_h·x_h ⊗ B_g(h);  y_h = state_h·C_g(h) + D_h·x_h
        float[] y = new float[n * inner];                 // [n, I], gated-normed scan output
        parallel.forRange(segs.length * nh, 3L * hd * ns * maxTokens, (from, to) -> {
            for (int item = from; item < to; item++) {
                int q = item / nh, hh = item % nh, g = hh / headsPerGroup;
                Segment sg = segs[q];
                float[] ssm = st[q].ssm;
                for (int t = 0; t < sg.n; t++) {
                    int r = sg.row + t, ao = r * convDim;
                    float d = dt[r * nh + hh];
                    float decay = (float) Math.exp(d * w.a()[hh]);
                    kernels.scanStep(ssm, hh * ns * hd, ns, hd, decay, d, w.d()[hh], act, ao + hh * hd,
                            act, ao + inner + g * ns, ao + inner + gn + g * ns, y, r * inner + hh * hd);
                    if (ssmSnaps[q] != null) {
                        System.arraycopy(ssm, hh * ns * hd, ssmSnaps[q][t], hh * ns * hd, ns * hd);
                    }
                }
            }
        });
        for (int q = 0; q < segs.length; q++) {
            if (ssmSnaps[q] != null) {
                st[q].ssmTrace.addAll(java.util.Arrays.asList(ssmSnaps[q]));
            }
        }
        // 5a. gated RMSNorm per row: g = y·silu(z), normalised over G groups of I/G channels, times the weight
        int groupSize = inner / groups;
        float eps = (float) config.layerNormEpsilon();
        float[] gate = new float[inner];                  // SiLU(z) of the current row
        for (int r = 0; r < n; r++) {
            int yOff = r * inner;
            System.arraycopy(zx, r * rows, gate, 0, inner);
            kernels.silu(gate, 0, inner);
            for (int g = 0; g < groups; g++) {
                int o = yOff + g * groupSize;
                double ss = 0;
                for (int i = 0; i < groupSize; i++) {
                    float gv = y[o + i] * gate[g * groupSize + i];
                    y[o + i] = gv;
                    ss += (double) gv * gv;
                }
                float inv = (float) (1.0 / Math.sqrt((float) (ss / groupSize) + eps));
                for (int i = 0; i < groupSize; i++) {
                    y[o + i] = y[o + i] * inv * w.gatedNorm()[g * groupSize + i];
                }
            }
        }
        // 5b. out_proj for all rows: [n, I] → [n, H]
        w.outProj().matmul(y, n, out, parallel);
        addBias(out, n, out.length / n, w.outBias());
    }

    /**
     * Causal GQA attention without positional encoding (§4.4): query head j reads KV head j/(nH/nKV), scores
     * scaled by head_dim^-0.5, softmax over the sequence's cached positions plus its piece up to the query.
     * u [rows, H] → out [rows, H]; each sequence's KV cache grows by its tokens.
     */
    private void attention(LayerWeights.Attention w, int layer, Segment[] segs, float[] u, int n, float[] out) {
        LayerSpec.Attention s = w.spec();
        int nH = s.heads(), hd = s.headDim(), group = s.groupSize();
        int qw = nH * hd, kvw = s.kvHeads() * hd;
        float[] q = new float[n * qw];                    // [n, nH·hd]
        float[] kk = new float[n * kvw];                  // [n, nKV·hd]
        float[] vv = new float[n * kvw];
        w.q().matmul(u, n, q, parallel);
        w.k().matmul(u, n, kk, parallel);
        w.v().matmul(u, n, vv, parallel);
        addBias(q, n, qw, w.qBias());
        addBias(kk, n, kvw, w.kBias());
        addBias(vv, n, kvw, w.vBias());
        LayerState.KeyValue[] kvs = new LayerState.KeyValue[n];   // the cache each row reads
        int[] total = new int[n];                                 // positions row r sees: its past and itself
        int longest = 0;
        for (Segment sg : segs) {
            LayerState.KeyValue kv = (LayerState.KeyValue) sg.state.layer(layer);
            int past = kv.length;
            kv.append(kk, vv, sg.row, sg.n);
            for (int t = 0; t < sg.n; t++) {
                kvs[sg.row + t] = kv;
                total[sg.row + t] = past + t + 1;
            }
            longest = Math.max(longest, past + sg.n);
        }
        float scale = (float) Math.pow(hd, -0.5);
        for (int i = 0; i < q.length; i++) {
            q[i] *= scale;
        }
        float[] att = new float[n * qw];                  // [n, nH·hd], heads concatenated
        final int maxTotal = longest;
        parallel.forRange(n * nH, 2L * maxTotal * hd, (from, to) -> {
            float[] p = new float[maxTotal];              // scores, then probabilities, over positions
            for (int item = from; item < to; item++) {
                int r = item / nH, j = item % nH;
                LayerState.KeyValue kv = kvs[r];
                int capacity = kv.capacity(), positions = total[r];
                int qo = r * qw + j * hd, ko = (j / group) * hd;
                // p = Σ_d q_d·K[d, :] over feature-major keys; att_j = Σ_pos p_pos·V[pos, :]
                kernels.combineRows(kv.keys, ko * capacity, capacity, hd, q, qo, p, 0, positions);
                kernels.softmax(p, 0, positions);
                kernels.combineRows(kv.values, ko, kvw, positions, p, 0, att, qo, hd);
            }
        });
        w.o().matmul(att, n, out, parallel);
        addBias(out, n, out.length / n, w.oBias());
    }

    /** relu² MLP (§4.5): out = down(relu(up(u))²). u [n, H] → out [n, H]. */
    private void mlp(LayerWeights.Mlp w, float[] u, int n, float[] out) {
        int width = w.spec().width();
        float[] a = new float[n * width];                 // [n, W]
        w.up().matmul(u, n, a, parallel);
        addBias(a, n, width, w.upBias());
        for (int i = 0; i < a.length; i++) {
            float r = Math.max(a[i], 0f);
            a[i] = r * r;
        }
        w.down().matmul(a, n, out, parallel);
        addBias(out, n, out.length / n, w.downBias());
    }

    /** out = w ⊙ x / sqrt(mean(x²) + eps) over x[off, off+n). */
    static void rmsNorm(float[] x, int off, int n, float[] w, float eps, float[] out, int outOff) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += (double) x[off + i] * x[off + i];
        }
        float inv = (float) (1.0 / Math.sqrt((float) (ss / n) + eps));
        for (int i = 0; i < n; i++) {
            out[outOff + i] = x[off + i] * inv * w[i];
        }
    }

    private static void addBias(float[] y, int n, int width, float[] bias) {
        if (bias == null) {
            return;
        }
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < width; i++) {
                y[t * width + i] += bias[i];
            }
        }
    }

    static float silu(float x) {
        return (float) (x / (1.0 + Math.exp(-x)));
    }

    /** softplus with the kernels' threshold: v for v > 20, else log1p(exp(v)). */
    static float softplus(float v) {
        return v > 20f ? v : (float) Math.log1p(Math.exp(v));
    }

    @Override
    public void close() {
        if (ownsParallel) {
            parallel.close();
        }
        if (ownsCheckpoint) {
            checkpoint.close();
        }
    }
}
