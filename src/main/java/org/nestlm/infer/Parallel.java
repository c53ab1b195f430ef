package org.nestlm.infer;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A small fixed pool that splits a loop over rows into one contiguous range per thread. The calling thread
 * runs the first range itself, so {@code threads = 1} needs no pool at all. Decode hands every matrix-vector
 * product of a token to the pool (hundreds a second per layer), so a hand-off must cost far less than a
 * park/unpark: idle workers spin on the task queue for {@link #SPIN_NANOS} before they sleep, and the caller
 * spins (running queued ranges itself meanwhile) until its ranges are done. Pool threads never wait on the pool
 * and a caller can always finish its own ranges alone, so several callers (server requests) may share one
 * instance without deadlock; they only compete for cores.
 */
public final class Parallel implements AutoCloseable {

    /** Loops with fewer multiply-adds than this run on the caller: a hand-off costs more than it saves. */
    static final long MIN_WORK_PER_THREAD = 16_384;

    /** How long an idle worker polls for the next range before it sleeps. */
    static final long SPIN_NANOS = 200_000;

    /** The body of a split loop: handles indices {@code [from, to)}. */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    private final int threads;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicInteger sleepers = new AtomicInteger();
    private final Object lock = new Object();
    private volatile boolean closed;

    public Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        for (int i = 1; i < threads; i++) {
            Thread t = new Thread(this::work, "nestlm-infer");
            t.setDaemon(true);
            t.start();
        }
    }

    /** One thread per available processor. */
    public static Parallel defaultThreads() {
        return new Parallel(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    private void work() {
        while (!closed) {
            Runnable task = tasks.poll();
            if (task != null) {
                task.run();
                continue;
            }
            long until = System.nanoTime() + SPIN_NANOS;
            while (task == null && !closed && System.nanoTime() < until) {
                Thread.onSpinWait();
                task = tasks.poll();
            }
            if (task != null) {
                task.run();
                continue;
            }
            synchronized (lock) {
                sleepers.incrementAndGet();
                try {
                    while (tasks.isEmpty() && !closed) {
                        lock.wait();
                    }
                } catch (InterruptedException e) {
                    return;
                } finally {
                    sleepers.decrementAndGet();
                }
            }
        }
    }

    /**
     * Runs {@code body} over {@code [0, n)} split into at most {@code threads} ranges.
     *
     * @param workPerIndex rough multiply-adds per index, to keep tiny loops on the calling thread
     */
    public void forRange(int n, long workPerIndex, Range body) {
        int parts = (int) Math.min(threads, Math.max(1, (long) n * workPerIndex / MIN_WORK_PER_THREAD));
        parts = Math.min(parts, n);
        if (parts <= 1) {
            body.run(0, n);
            return;
        }
        AtomicInteger remaining = new AtomicInteger(parts - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int p = 1; p < parts; p++) {
            int from = (int) ((long) n * p / parts), to = (int) ((long) n * (p + 1) / parts);
            tasks.offer(() -> {
                try {
                    body.run(from, to);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    remaining.decrementAndGet();
                }
            });
        }
        if (sleepers.get() > 0) {
            synchronized (lock) {
                lock.notifyAll();
            }
        }
        try {
            body.run(0, n / parts);
        } finally {
            // wait for the other ranges (they write into our buffers), running queued ones ourselves meanwhile
            int spins = 0;
            while (remaining.get() > 0) {
                Runnable task = tasks.poll();
                if (task != null) {
                    task.run();
                } else if (++spins < 10_000) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (lock) {
            lock.notifyAll();
        }
    }
}
