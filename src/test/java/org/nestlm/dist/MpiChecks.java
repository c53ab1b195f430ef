package org.nestlm.dist;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The program {@link MpiCommunicatorTest} starts on every rank of an {@code mpirun} job: {@code collectives} checks
 * each collective against the values every rank knows it should produce; {@code stuck} leaves rank 1 out of a
 * barrier for a minute; {@code diverge} has rank 1 call a barrier the others do not before a common all-reduce;
 * {@code early} has rank 1 end (finalize) while rank 0 calls one more barrier; {@code rankorder} (three ranks) checks
 * that sums come out in rank order, ((x₀ + x₁) + x₂), on values where another grouping rounds otherwise.
 */
public final class MpiChecks {

    private MpiChecks() {
    }

    public static void main(String[] args) throws Exception {
        Communicator c = World.communicator();
        int code = 0;
        try {
            switch (args[0]) {
                case "collectives" -> collectives(c);
                case "stuck" -> {
                    if (c.rank() == 1) {
                        Thread.sleep(60_000);
                    }
                    c.barrier();
                }
                case "diverge" -> {
                    if (c.rank() == 1) {
                        c.barrier();
                    }
                    c.sum(1);
                }
                case "early" -> {
                    if (c.rank() == 0) {
                        c.barrier();
                    }
                }
                case "rankorder" -> rankOrder(c);
                default -> throw new IllegalArgumentException(args[0]);
            }
            System.out.println("ok rank " + c.rank() + " of " + c.size());
        } catch (Throwable t) {
            t.printStackTrace();
            code = 1;
        } finally {
            World.exit(code);
        }
        System.exit(code);
    }

    private static void collectives(Communicator c) {
        int r = c.rank(), n = c.size();
        check(c instanceof MpiCommunicator && n == 2, "2 MPI ranks, got " + c);
        try (Arena arena = Arena.ofConfined()) {
            long count = 3 + (1L << 20);                          // more than one page, not a round size
            MemorySegment f = arena.allocate(ValueLayout.JAVA_FLOAT, count);
            for (long i = 0; i < count; i++) {
                f.setAtIndex(ValueLayout.JAVA_FLOAT, i, (r + 1) * 0.25f + i % 7);
            }
            c.allreduce(f, Communicator.Type.FLOAT, Communicator.Op.SUM);
            for (long i = 0; i < count; i++) {
                float want = 0.25f + i % 7 + (0.5f + i % 7);
                check(f.getAtIndex(ValueLayout.JAVA_FLOAT, i) == want, "float sum at " + i);
            }
            MemorySegment d = arena.allocateFrom(ValueLayout.JAVA_DOUBLE, r - 0.5, 1e300 * (r + 1));
            c.allreduce(d, Communicator.Type.DOUBLE, Communicator.Op.MIN);
            check(d.getAtIndex(ValueLayout.JAVA_DOUBLE, 0) == -0.5 && d.getAtIndex(ValueLayout.JAVA_DOUBLE, 1) == 1e300, "double min");
            MemorySegment l = arena.allocateFrom(ValueLayout.JAVA_LONG, (long) r << 40, -r);
            c.allreduce(l, Communicator.Type.LONG, Communicator.Op.MAX);
            check(l.getAtIndex(ValueLayout.JAVA_LONG, 0) == 1L << 40 && l.getAtIndex(ValueLayout.JAVA_LONG, 1) == 0, "long max");
            check(c.sum(r + 1.5) == 4.0, "sum of doubles");
            MemorySegment b = arena.allocate(5);
            if (r == 1) {
                b.copyFrom(MemorySegment.ofArray(new byte[] {9, 8, 7, 6, 5}));
            }
            c.broadcast(b, 1);
            check(b.get(ValueLayout.JAVA_BYTE, 0) == 9 && b.get(ValueLayout.JAVA_BYTE, 4) == 5, "broadcast from rank 1");
            check(c.rootDecides(r == 0) && !c.rootDecides(r != 0), "rank 0's decision on every rank");
            c.requireSame("a constant", 42);
            try {
                c.requireSame("the rank", r);
                check(false, "ranks that differ must fail");
            } catch (IllegalArgumentException e) {
                check(e.getMessage().contains("the 2 ranks disagree on the rank"), e.getMessage());
            }
            c.barrier();
        }
    }

    /** x₀ = 1e8, x₁ = −1e8, x₂ = 1: in rank order the sum is 1; (x₀ + x₂) + x₁ would give 0 (1e8 + 1 rounds to 1e8). */
    private static void rankOrder(Communicator c) {
        check(c.size() == 3, "3 MPI ranks, got " + c.size());
        float[] x = {1e8f, -1e8f, 1f};
        try (Arena arena = Arena.ofConfined()) {
            long count = Communicator.RANK_ORDER_CHUNK + 5L;       // two pieces, the second short
            MemorySegment f = arena.allocate(ValueLayout.JAVA_FLOAT, count);
            for (long i = 0; i < count; i++) {
                f.setAtIndex(ValueLayout.JAVA_FLOAT, i, x[c.rank()] * (1 + i % 3));
            }
            c.sumInRankOrder(f);
            for (long i = 0; i < count; i++) {
                float want = (x[0] * (1 + i % 3) + x[1] * (1 + i % 3)) + x[2] * (1 + i % 3);
                check(f.getAtIndex(ValueLayout.JAVA_FLOAT, i) == want && want != 0, "rank-order float sum at " + i);
            }
            double[] d = {1e16, -1e16, 1.0};
            check(c.sum(d[c.rank()]) == 1.0, "rank-order sum of doubles");
        }
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
