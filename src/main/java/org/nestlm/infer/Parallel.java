package org.nestlm.infer;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A small fixed pool that splits a loop over rows into one contiguous range per thread. The calling thread
 * runs the first range itself, so {@code threads = 1} needs no pool at all. Pool threads never wait on the
 * pool, so several callers (server requests) may share one instance without deadlock; they only compete
 * for cores.
 */
public final class Parallel implements AutoCloseable {

    /** Loops with fewer multiply-adds than this run on the caller: a hand-off costs more than it saves. */
    static final long MIN_WORK_PER_THREAD = 16_384;

    /** The body of a split loop: handles indices {@code [from, to)}. */
    @FunctionalInterface
    public interface Range {
        void run(int from, int to);
    }

    private final int threads;
    private final ExecutorService pool;   // threads − 1 daemon workers, or null

    public Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        this.threads = threads;
        this.pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "nestlm-infer");
            t.setDaemon(true);
            return t;
        });
    }

    /** One thread per available processor. */
    public static Parallel defaultThreads() {
        return new Parallel(Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
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
        CountDownLatch done = new CountDownLatch(parts - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int p = 1; p < parts; p++) {
            int from = (int) ((long) n * p / parts), to = (int) ((long) n * (p + 1) / parts);
            pool.execute(() -> {
                try {
                    body.run(from, to);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        try {
            body.run(0, n / parts);
        } finally {
            boolean interrupted = false;
            while (true) {
                try {
                    done.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;   // the workers still write into our buffers: wait for them regardless
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
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
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
