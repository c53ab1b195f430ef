package org.nestlm.serve;

import org.nestlm.infer.Continuation;
import org.nestlm.infer.Engine;
import org.nestlm.infer.FinishReason;
import org.nestlm.infer.Generation;
import org.nestlm.infer.InferenceState;
import org.nestlm.infer.LanguageModel;
import org.nestlm.infer.Sampler;
import org.nestlm.infer.SamplingParams;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Continuous batching for one model (one size of an elastic checkpoint): an iteration-level scheduler on a
 * thread of its own. Every pass of {@link Engine#forward(InferenceState[], int[][])} runs one token of each
 * decoding request and a piece of the prompt of each request still in prefill (at most {@code prefillChunk}
 * prompt tokens per pass while others decode, so a long prompt does not stall the streams), reading the weights
 * once for all.
 * Requests join at the next pass in arrival order (FCFS) while fewer than {@code maxBatch} run and their decode
 * state fits in the shared {@link StateMemory}; they leave when done, and a cancelled request (its client went
 * away) leaves at the next pass. Each keeps its own sampling parameters, seed and stop strings
 * ({@link Continuation}); results and stream tokens go to the request's {@link Job#events} queue, so a slow
 * client never holds up a pass.
 */
final class BatchScheduler implements AutoCloseable {

    /**
     * Prompt tokens per pass when no request is decoding (nobody waits on the pass but the prompts' owners), unless
     * the chunk while decoding is larger.
     */
    static final int PREFILL_ROWS_ALONE = 256;

    /** What the request's HTTP thread receives. */
    sealed interface Event {
    }

    /** A generated token and the text that became final with it (token −1: held-back text at the end). */
    record Token(int token, String delta) implements Event {
    }

    /** The generation ended. */
    record Done(Generation generation) implements Event {
    }

    /** The generation was stopped by the server (shutdown, or an engine error). */
    record Failed(String message, String code, Generation partial) implements Event {
    }

    /** One request, from submission to its last event. */
    static final class Job {
        final int[] prompt;
        final SamplingParams params;
        final boolean streamTokens;
        final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        final long bytes;                     // decode state reserved while running
        final long submitted = System.nanoTime();
        private volatile boolean cancelled;
        // scheduler thread only:
        private Continuation continuation;
        private Sampler sampler;
        private InferenceState state;
        private int fed;                      // prompt tokens consumed
        private int pending = -1;             // sampled, to be fed next pass
        private long firstToken;

        Job(int[] prompt, SamplingParams params, boolean streamTokens, long bytes) {
            this.prompt = prompt;
            this.params = params;
            this.streamTokens = streamTokens;
            this.bytes = bytes;
        }

        boolean cancelled() {
            return cancelled;
        }

        /** Passes still to run at most: the prompt's remaining pieces and the tokens still to generate. */
        int remaining(int prefillChunk) {
            int generated = continuation == null ? 0 : continuation.count();
            return passes(prompt.length - fed, prefillChunk) + params.maxTokens() - generated;
        }

        private Generation generation(FinishReason finish) {
            long now = System.nanoTime();
            long prefill = firstToken == 0 ? now - submitted : firstToken - submitted;
            Continuation c = continuation;
            return new Generation(prompt.clone(), c == null ? new int[0] : c.tokens(), c == null ? null : c.text(),
                    finish, prefill, now - submitted - prefill);
        }
    }

    /**
     * The bytes of decode state all schedulers of a server may hold together (KV caches and Mamba states of
     * running requests, each counted at its bound for prompt + max_tokens positions).
     */
    static final class StateMemory {
        private final long limit;
        private long used;

        StateMemory(long limit) {
            this.limit = limit;
        }

        /** Takes {@code bytes}; a request alone may always run, however large. */
        synchronized boolean tryReserve(long bytes, boolean alone) {
            if (used + bytes > limit && !(alone && used == 0)) {
                return false;
            }
            used += bytes;
            return true;
        }

        synchronized void release(long bytes) {
            used -= bytes;
        }

        synchronized long used() {
            return used;
        }

        long limit() {
            return limit;
        }
    }

    private final LanguageModel lm;
    private final Engine engine;
    private final int maxBatch;
    private final int prefillChunk;           // prompt tokens per pass while others decode
    private final StateMemory memory;
    private final Runnable onChange;          // told when the running set shrinks (memory freed)
    private final ArrayDeque<Job> waiting = new ArrayDeque<>();
    private final List<Job> running = new ArrayList<>();
    private final Thread thread;
    private final AtomicLong cancelled = new AtomicLong();
    private final AtomicLong completed = new AtomicLong();
    private volatile double passNanos;        // moving average of a pass's duration, 0 before the first
    private volatile int runningCount, waitingCount;
    private boolean closed;
    private boolean held;                     // tests: admit, but run no pass
    private volatile int peak;                // most requests in one pass so far
    private volatile int peakPrefill;         // most prompt tokens in one pass that also decoded

    /**
     * @param maxBatch     most requests in one pass
     * @param prefillChunk most prompt tokens, across the requests in prefill, in a pass that also decodes
     * @param onChange     called (on the scheduler thread) after requests leave, so other schedulers can admit
     */
    BatchScheduler(LanguageModel lm, int maxBatch, int prefillChunk, StateMemory memory, Runnable onChange) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("--max-batch must be at least 1, got " + maxBatch);
        }
        if (prefillChunk < 1) {
            throw new IllegalArgumentException("--prefill-chunk must be at least 1, got " + prefillChunk);
        }
        this.lm = lm;
        this.engine = lm.engine();
        this.maxBatch = maxBatch;
        this.prefillChunk = prefillChunk;
        this.memory = memory;
        this.onChange = onChange;
        this.thread = new Thread(this::loop, "nestlm-batch-" + lm.name());
        thread.setDaemon(true);
        thread.start();
    }

    LanguageModel model() {
        return lm;
    }

    /** The bytes a request of this prompt and these parameters reserves while it runs. */
    long bytesFor(int promptTokens, SamplingParams params) {
        long positions = Math.min((long) promptTokens + params.maxTokens(), engine.contextLimit());
        return engine.stateBytes((int) Math.min(positions, Integer.MAX_VALUE / 4));
    }

    /** Queues a request (FCFS); it joins the batch at a later pass. */
    Job submit(int[] prompt, SamplingParams params, boolean streamTokens) {
        Job job = new Job(prompt, params, streamTokens, bytesFor(prompt.length, params));
        synchronized (this) {
            if (closed) {
                throw new ApiException(503, "the server is shutting down", null, "shutting_down");
            }
            waiting.addLast(job);
            waitingCount = waiting.size();
            notifyAll();
        }
        return job;
    }

    /** The client went away: the request leaves (running or waiting) at the next pass. */
    synchronized void cancel(Job job) {
        job.cancelled = true;
        notifyAll();
    }

    /** Wakes the loop to try admitting again (memory was freed elsewhere). */
    synchronized void poke() {
        notifyAll();
    }

    int running() {
        return runningCount;
    }

    int waiting() {
        return waitingCount;
    }

    int maxBatch() {
        return maxBatch;
    }

    /** Passes that feed {@code promptTokens} prompt tokens, {@code prefillChunk} per pass (0 for none). */
    static int passes(int promptTokens, int prefillChunk) {
        return (promptTokens + prefillChunk - 1) / prefillChunk;
    }

    long cancelledCount() {
        return cancelled.get();
    }

    long completedCount() {
        return completed.get();
    }

    /** True when a request submitted now would join at the next pass. */
    synchronized boolean hasRoom() {
        return waiting.isEmpty() && running.size() < maxBatch;
    }

    /**
     * Estimated nanoseconds until a request of {@code tokens} passes (prompt pieces and output tokens) submitted
     * now would finish here: the passes it waits for a slot (the {@code k}-th shortest remaining request of a
     * full batch, k = its place in the queue) plus its own, times a pass's duration ({@code passCost} before
     * this scheduler measured one).
     */
    synchronized double estimateNanos(int tokens, double passCost) {
        double pass = passNanos > 0 ? passNanos : passCost;
        int waitPasses = 0;
        int free = maxBatch - running.size();
        if (free <= waiting.size()) {
            int[] left = running.stream().mapToInt(j -> j.remaining(prefillChunk)).sorted().toArray();
            int k = waiting.size() - free;
            waitPasses = left.length == 0 ? 0 : left[Math.min(k, left.length - 1)] * (1 + k / Math.max(1, left.length));
        }
        return pass * (waitPasses + tokens);
    }

    /** Most requests that ran in one pass so far. */
    int peak() {
        return peak;
    }

    /** Most prompt tokens fed in one pass that also decoded, so far. */
    int peakPrefillWhileDecoding() {
        return peakPrefill;
    }

    /** For tests: while held, requests are admitted (and cancelled ones leave) but no pass runs. */
    synchronized void holdForTest(boolean hold) {
        held = hold;
        notifyAll();
    }

    /** The measured duration of a pass, or 0 before the first. */
    double passNanos() {
        return passNanos;
    }

    /** Stops admitting and ends every waiting and running request now with a {@link Failed} event. */
    private synchronized void abortAll(String message) {
        closed = true;
        for (Job j : waiting) {
            j.events.add(new Failed(message, "shutting_down", j.generation(FinishReason.LENGTH)));
        }
        waiting.clear();
        for (Job j : running) {
            j.events.add(new Failed(message, "shutting_down", j.generation(FinishReason.LENGTH)));
            memory.release(j.bytes);
        }
        running.clear();
        runningCount = 0;
        waitingCount = 0;
        notifyAll();
    }

    @Override
    public void close() {
        abortAll("the server is shutting down");
        holdForTest(false);
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        while (true) {
            Job[] batch;
            boolean left;
            synchronized (this) {
                left = dropCancelled();
                admit();
                while (running.isEmpty() || held) {
                    if (closed && waiting.isEmpty() && running.isEmpty()) {
                        return;
                    }
                    try {
                        wait(waiting.isEmpty() ? 0 : 20);   // waiting: memory may be freed by another size
                    } catch (InterruptedException e) {
                        if (closed) {
                            return;
                        }
                    }
                    left |= dropCancelled();
                    admit();
                }
                batch = running.toArray(new Job[0]);
                peak = Math.max(peak, batch.length);
                if (left) {
                    notifyAll();
                }
            }
            if (left) {
                onChange.run();   // outside the lock: other schedulers take their own
            }
            long t0 = System.nanoTime();
            List<Job> finished = pass(batch);
            long dt = System.nanoTime() - t0;
            passNanos = passNanos == 0 ? dt : 0.8 * passNanos + 0.2 * dt;
            if (!finished.isEmpty()) {
                synchronized (this) {
                    for (Job j : finished) {
                        if (running.remove(j)) {
                            memory.release(j.bytes);
                        }
                    }
                    runningCount = running.size();
                    notifyAll();
                }
                onChange.run();
            }
        }
    }

    /** Removes cancelled requests (running or waiting); true when any left. Holds the lock. */
    private boolean dropCancelled() {
        boolean any = false;
        for (var it = running.iterator(); it.hasNext(); ) {
            Job j = it.next();
            if (j.cancelled()) {
                it.remove();
                memory.release(j.bytes);
                cancelled.incrementAndGet();
                any = true;
            }
        }
        if (waiting.removeIf(j -> {
            boolean c = j.cancelled();
            if (c) {
                cancelled.incrementAndGet();
            }
            return c;
        })) {
            any = true;
        }
        runningCount = running.size();
        waitingCount = waiting.size();
        return any;
    }

    /** Moves waiting requests into the batch in arrival order while they fit. Holds the lock. */
    private void admit() {
        while (!waiting.isEmpty() && running.size() < maxBatch) {
            Job j = waiting.peekFirst();
            if (!memory.tryReserve(j.bytes, running.isEmpty())) {
                break;   // FCFS: nobody overtakes the head of the queue
            }
            waiting.pollFirst();
            j.state = engine.newState();
            j.sampler = new Sampler(j.params);
            Job job = j;
            j.continuation = new Continuation(j.params, lm.text(), engine.config().eosTokenId(), engine.contextLimit(),
                    j.streamTokens ? (token, delta) -> job.events.add(new Token(token, delta)) : null);
            running.add(j);
        }
        runningCount = running.size();
        waitingCount = waiting.size();
    }

    /** One pass over the batch; returns the requests that ended in it. */
    private List<Job> pass(Job[] batch) {
        List<Job> finished = new ArrayList<>();
        List<Job> in = new ArrayList<>();
        List<int[]> inputs = new ArrayList<>();
        boolean decoding = false;
        for (Job j : batch) {
            decoding |= !j.cancelled() && j.fed == j.prompt.length;
        }
        int budget = decoding ? prefillChunk : Math.max(prefillChunk, PREFILL_ROWS_ALONE);
        int prefillBudget = budget;
        for (Job j : batch) {
            if (j.cancelled()) {
                continue;
            }
            if (j.continuation.done()) {   // max_tokens 0
                finish(j, finished);
                continue;
            }
            if (j.fed < j.prompt.length) {
                if (prefillBudget == 0) {
                    continue;
                }
                int n = Math.min(prefillBudget, j.prompt.length - j.fed);
                inputs.add(Arrays.copyOfRange(j.prompt, j.fed, j.fed + n));
                prefillBudget -= n;
            } else {
                inputs.add(new int[] {j.pending});
            }
            in.add(j);
        }
        if (in.isEmpty()) {
            return finished;
        }
        if (decoding) {
            peakPrefill = Math.max(peakPrefill, budget - prefillBudget);
        }
        InferenceState[] states = new InferenceState[in.size()];
        for (int i = 0; i < states.length; i++) {
            states[i] = in.get(i).state;
        }
        float[] logits;
        try {
            logits = engine.forward(states, inputs.toArray(new int[0][]));
        } catch (RuntimeException e) {
            for (Job j : in) {
                j.events.add(new Failed("generation failed: " + e.getMessage(), "server_error", j.generation(FinishReason.LENGTH)));
                finished.add(j);
            }
            return finished;
        }
        int v = engine.vocabSize();
        for (int i = 0; i < in.size(); i++) {
            Job j = in.get(i);
            if (j.fed < j.prompt.length) {
                j.fed += inputs.get(i).length;
                if (j.fed < j.prompt.length) {
                    continue;   // more of the prompt next pass
                }
            }
            int token = j.sampler.sample(logits, i * v, v);
            if (j.firstToken == 0) {
                j.firstToken = System.nanoTime();
            }
            try {
                if (j.continuation.accept(token, j.state.position())) {
                    j.pending = token;
                } else {
                    finish(j, finished);
                }
            } catch (RuntimeException e) {   // the tokenizer failed on these ids
                j.events.add(new Failed("generation failed: " + e.getMessage(), "server_error", j.generation(FinishReason.LENGTH)));
                finished.add(j);
            }
        }
        return finished;
    }

    private void finish(Job j, List<Job> finished) {
        j.continuation.end();
        j.events.add(new Done(j.generation(j.continuation.finish())));
        completed.incrementAndGet();
        finished.add(j);
    }
}
