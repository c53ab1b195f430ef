package org.nestlm.dist;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The ranks of one data-parallel job. Collectives are called by every rank in the same order, from one thread;
 * buffers are off-heap segments reduced in place (the result replaces the contribution on every rank).
 */
public interface Communicator {

    /** Element types of a reduction. */
    enum Type {
        FLOAT(4), DOUBLE(8), LONG(8);

        final int bytes;

        Type(int bytes) {
            this.bytes = bytes;
        }
    }

    /** Reduction operators. */
    enum Op {
        SUM, MIN, MAX
    }

    /** This process's rank, 0 ≤ rank &lt; size. */
    int rank();

    /** Number of ranks. */
    int size();

    /** Combines {@code buffer} (a whole number of {@code type} elements) element-wise across ranks, in place. */
    void allreduce(MemorySegment buffer, Type type, Op op);

    /** Copies {@code buffer} from rank {@code root} to every other rank. */
    void broadcast(MemorySegment buffer, int root);

    /** Returns once every rank has called it. */
    void barrier();

    /** Ends every rank of the job with {@code code} (no return). */
    void abort(int code);

    default boolean isRoot() {
        return rank() == 0;
    }

    /**
     * With {@link #releaseOthers()}, rank 0 goes first through a preparation that writes shared files (token caches,
     * a recovered run directory): ranks above 0 wait here until rank 0 calls {@link #releaseOthers()}, then prepare
     * likewise and find the files made. A no-op on rank 0.
     */
    default void waitForRoot() {
        if (!isRoot()) {
            barrier();
        }
    }

    /** Rank 0's end of {@link #waitForRoot()}: the other ranks go on. A no-op on other ranks. */
    default void releaseOthers() {
        if (isRoot()) {
            barrier();
        }
    }

    /**
     * Rank 0's {@code value}, on every rank. For decisions every rank must take alike that each could otherwise read
     * from shared files at a different moment (a stage recorded as done, a run directory holding a checkpoint): rank 0
     * goes on after a collective while the others are still reading, and may already have changed the file.
     */
    default boolean rootDecides(boolean value) {
        if (size() == 1) {
            return value;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) (value ? 1 : 0));
            broadcast(s, 0);
            return s.get(ValueLayout.JAVA_BYTE, 0) != 0;
        }
    }

    /** The sum of {@code value} over ranks (the same on every rank). */
    default double sum(double value) {
        if (size() == 1) {
            return value;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocateFrom(ValueLayout.JAVA_DOUBLE, value);
            allreduce(s, Type.DOUBLE, Op.SUM);
            return s.get(ValueLayout.JAVA_DOUBLE, 0);
        }
    }

    /**
     * Fails on every rank, with the same message, unless all ranks hold the same {@code value} (a hash of the
     * settings and data of a run): ranks that disagree would otherwise train on different problems silently.
     *
     * @param what names what was hashed, for the message
     */
    default void requireSame(String what, long value) {
        if (size() == 1) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocateFrom(ValueLayout.JAVA_LONG, value, ~value);   // max and ~min in one call
            allreduce(s, Type.LONG, Op.MAX);
            long max = s.get(ValueLayout.JAVA_LONG, 0), min = ~s.get(ValueLayout.JAVA_LONG, 8);
            if (min != max) {
                throw new IllegalArgumentException("the " + size() + " ranks disagree on " + what + " (this is rank "
                        + rank() + ", hash " + Long.toHexString(value) + "); start every rank with the same command, "
                        + "files and data");
            }
        }
    }
}
