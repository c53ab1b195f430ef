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

    /**
     * The sum of {@code value} over ranks (the same on every rank), added in rank order as {@link #sumInRankOrder}
     * adds: one process adding its micro-batches' values one after another gets the same bits.
     */
    default double sum(double value) {
        if (size() == 1) {
            return value;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocateFrom(ValueLayout.JAVA_DOUBLE, value);
            if (size() == 2) {
                allreduce(s, Type.DOUBLE, Op.SUM);            // a + b = b + a: any order gives the same bits
                return s.get(ValueLayout.JAVA_DOUBLE, 0);
            }
            double total = 0;
            for (int r = 0; r < size(); r++) {
                s.set(ValueLayout.JAVA_DOUBLE, 0, value);
                broadcast(s, r);
                total = r == 0 ? s.get(ValueLayout.JAVA_DOUBLE, 0) : total + s.get(ValueLayout.JAVA_DOUBLE, 0);
            }
            return total;
        }
    }

    /**
     * In place: the element-wise sum of {@code values} over ranks, in MPI's order of addition, which need not be
     * rank order (for statistics and importance scores; gradients go through {@link #sumInRankOrder}); nothing for
     * one rank.
     */
    default void sumElementwise(double[] values) {
        if (size() == 1) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocateFrom(ValueLayout.JAVA_DOUBLE, values);
            allreduce(s, Type.DOUBLE, Op.SUM);
            MemorySegment.copy(s, ValueLayout.JAVA_DOUBLE, 0, values, 0, values.length);
        }
    }

    /** Elements of {@link #sumInRankOrder} moved per broadcast (4 MiB): two such pieces are the extra memory. */
    int RANK_ORDER_CHUNK = 1 << 20;

    /**
     * Replaces the fp32 values of {@code floats} by their sum over ranks, added in rank order, ((x₀ + x₁) + x₂) + …,
     * on every rank: the order in which one process accumulates the gradients of micro-batches 0, 1, 2, … one after
     * another. {@code MPI_Allreduce} may group the terms otherwise (with four ranks (x₀ + x₂) + (x₁ + x₃)), and fp32
     * rounding then differs in the last bits. With two ranks both orders give the same bits (a + b = b + a), so two
     * ranks take the all-reduce. Costs one broadcast of the buffer per rank, in pieces of {@link #RANK_ORDER_CHUNK}.
     */
    default void sumInRankOrder(MemorySegment floats) {
        if (size() == 1) {
            return;
        }
        if (size() == 2) {
            allreduce(floats, Type.FLOAT, Op.SUM);
            return;
        }
        long n = floats.byteSize() / Float.BYTES;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment own = arena.allocate(ValueLayout.JAVA_FLOAT, Math.min(n, RANK_ORDER_CHUNK));
            MemorySegment part = arena.allocate(ValueLayout.JAVA_FLOAT, Math.min(n, RANK_ORDER_CHUNK));
            for (long first = 0; first < n; first += RANK_ORDER_CHUNK) {
                long count = Math.min(RANK_ORDER_CHUNK, n - first);
                long bytes = count * Float.BYTES;
                MemorySegment acc = floats.asSlice(first * Float.BYTES, bytes);
                MemorySegment mine = own.asSlice(0, bytes), theirs = part.asSlice(0, bytes);
                mine.copyFrom(acc);
                for (int r = 0; r < size(); r++) {
                    if (r == rank()) {
                        theirs.copyFrom(mine);
                    }
                    broadcast(theirs, r);
                    if (r == 0) {
                        acc.copyFrom(theirs);
                    } else {
                        for (long i = 0; i < count; i++) {
                            acc.setAtIndex(ValueLayout.JAVA_FLOAT, i, acc.getAtIndex(ValueLayout.JAVA_FLOAT, i)
                                    + theirs.getAtIndex(ValueLayout.JAVA_FLOAT, i));
                        }
                    }
                }
            }
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
