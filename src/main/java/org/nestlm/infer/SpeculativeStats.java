package org.nestlm.infer;

import java.util.concurrent.atomic.AtomicLong;

/** Counts of speculative decoding: rounds, draft tokens proposed and accepted. Thread-safe. */
public final class SpeculativeStats {

    private final AtomicLong rounds = new AtomicLong(), proposed = new AtomicLong(), accepted = new AtomicLong();

    void add(int k, int a) {
        rounds.incrementAndGet();
        proposed.addAndGet(k);
        accepted.addAndGet(a);
    }

    public long rounds() {
        return rounds.get();
    }

    public long proposed() {
        return proposed.get();
    }

    public long accepted() {
        return accepted.get();
    }

    /** Accepted / proposed draft tokens (NaN before the first round). */
    public double acceptanceRate() {
        long p = proposed.get();
        return p == 0 ? Double.NaN : (double) accepted.get() / p;
    }

    /** Tokens produced per target pass: (accepted + rounds) / rounds. */
    public double tokensPerTargetPass() {
        long r = rounds.get();
        return r == 0 ? Double.NaN : (double) (accepted.get() + r) / r;
    }
}
