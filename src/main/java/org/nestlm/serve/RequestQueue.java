package org.nestlm.serve;

import java.util.concurrent.Semaphore;

/**
 * Admission control: at most {@code parallel} generations run at once and at most {@code maxQueue} more
 * wait for a slot; a request beyond that is refused at once (HTTP 429) instead of piling up.
 */
final class RequestQueue {

    private final Semaphore admitted;   // parallel + maxQueue permits: running or waiting
    private final Semaphore running;    // parallel permits

    RequestQueue(int parallel, int maxQueue) {
        if (parallel < 1) {
            throw new IllegalArgumentException("--parallel must be at least 1, got " + parallel);
        }
        if (maxQueue < 0) {
            throw new IllegalArgumentException("--max-queue must be ≥ 0, got " + maxQueue);
        }
        this.admitted = new Semaphore(parallel + maxQueue, true);
        this.running = new Semaphore(parallel, true);
    }

    /** Takes a place in the queue, or returns false when it is full. */
    boolean tryEnter() {
        return admitted.tryAcquire();
    }

    /** Waits for a generation slot (after {@link #tryEnter}). */
    void awaitTurn() throws InterruptedException {
        running.acquire();
    }

    /** Gives back the slot taken by {@link #awaitTurn} and the place taken by {@link #tryEnter}. */
    void leave(boolean hadTurn) {
        if (hadTurn) {
            running.release();
        }
        admitted.release();
    }

    /** Requests running or waiting. */
    int load(int capacity) {
        return capacity - admitted.availablePermits();
    }

    /** For tests: occupies every place, so the next request is refused. Returns how many were taken. */
    int fillForTest() {
        return admitted.drainPermits();
    }

    /** For tests: returns places taken by {@link #fillForTest}. */
    void releaseForTest(int permits) {
        admitted.release(permits);
    }
}
