package org.nestlm.serve;

import java.util.concurrent.Semaphore;

/**
 * Admission control: at most {@code capacity} requests are running or waiting in the server's batches; a
 * request beyond that is refused at once (HTTP 429) instead of piling up.
 */
final class RequestQueue {

    private final int capacity;
    private final Semaphore admitted;

    RequestQueue(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("the queue needs room for at least one request, got " + capacity);
        }
        this.capacity = capacity;
        this.admitted = new Semaphore(capacity, true);
    }

    /** Takes a place, or returns false when every place is taken. */
    boolean tryEnter() {
        return admitted.tryAcquire();
    }

    /** Gives back the place taken by {@link #tryEnter}. */
    void leave() {
        admitted.release();
    }

    /** Requests running or waiting. */
    int load() {
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
