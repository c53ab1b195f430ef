// A probe for the one-token BF16 product (docs/PERFORMANCE.md, "One read stream"). Not part of the build: it says
// how fast one core reads weights for a single token when the rows are taken four at a time, interleaved (the
// batched tile's order), and when they are taken one after another (the order the engine uses for one token).
//
//   java --add-modules jdk.incubator.vector tools/ReadStreamProbe.java [cols]      # cols per row, default 1024
//
// For a BF16 matrix of 256 MiB (streamed from memory) and of 256 KiB (resident in L2) it prints GB/s of weights
// read by
//   - four rows at a time: per run of 2L columns each of four rows is loaded, widened and multiplied into its own
//     accumulator, so four read streams advance side by side, one row (cols · 2 bytes) apart;
//   - one row at a time: the same arithmetic per row, one accumulator, rows in order: a single read stream;
// and, streamed only, a plain fp32 dot over the same bytes (one stream, the engine's memory-bandwidth yardstick).
// Both BF16 orders give every row the same bits; only the memory access pattern differs.
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

public class ReadStreamProbe {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final int L = F.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /** Rows r..r+3 of one token, interleaved: four read streams. */
    static void rows4(MemorySegment w, long r0, long rowBytes, int cols, float[] x, float[] y, int yi) {
        long r1 = r0 + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
        for (int c = 0; c < cols; c += 2 * L) {
            long o = 2L * c;
            IntVector p0 = IntVector.fromMemorySegment(I, w, r0 + o, LE);
            IntVector p1 = IntVector.fromMemorySegment(I, w, r1 + o, LE);
            IntVector p2 = IntVector.fromMemorySegment(I, w, r2 + o, LE);
            IntVector p3 = IntVector.fromMemorySegment(I, w, r3 + o, LE);
            FloatVector xe = FloatVector.fromArray(F, x, c), xo = FloatVector.fromArray(F, x, c + L);
            a0 = p0.and(0xFFFF0000).reinterpretAsFloats().fma(xo, p0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a0));
            a1 = p1.and(0xFFFF0000).reinterpretAsFloats().fma(xo, p1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a1));
            a2 = p2.and(0xFFFF0000).reinterpretAsFloats().fma(xo, p2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a2));
            a3 = p3.and(0xFFFF0000).reinterpretAsFloats().fma(xo, p3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, a3));
        }
        y[yi] = a0.reduceLanes(VectorOperators.ADD);
        y[yi + 1] = a1.reduceLanes(VectorOperators.ADD);
        y[yi + 2] = a2.reduceLanes(VectorOperators.ADD);
        y[yi + 3] = a3.reduceLanes(VectorOperators.ADD);
    }

    /** One row of one token: one read stream. */
    static float row1(MemorySegment w, long r0, int cols, float[] x) {
        FloatVector a = FloatVector.zero(F);
        for (int c = 0; c < cols; c += 2 * L) {
            IntVector p = IntVector.fromMemorySegment(I, w, r0 + 2L * c, LE);
            a = p.and(0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, c + L),
                    p.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, c), a));
        }
        return a.reduceLanes(VectorOperators.ADD);
    }

    static float dotF32(MemorySegment w, long bytes) {
        FloatVector a = FloatVector.zero(F), b = FloatVector.zero(F);
        for (long o = 0; o < bytes; o += 2L * F.vectorByteSize()) {
            FloatVector v = FloatVector.fromMemorySegment(F, w, o, LE), u = FloatVector.fromMemorySegment(F, w, o + F.vectorByteSize(), LE);
            a = v.fma(v, a);
            b = u.fma(u, b);
        }
        return a.add(b).reduceLanes(VectorOperators.ADD);
    }

    /** GB/s of weights read over {@code rows} rows, {@code reps} times, in the given order. */
    static double rate(MemorySegment w, int rows, int cols, float[] x, float[] y, int reps, boolean four) {
        long rowBytes = 2L * cols;
        long t0 = System.nanoTime();
        for (int q = 0; q < reps; q++) {
            for (int r = 0; r < rows; r += 4) {
                long o = r * rowBytes;
                if (four) {
                    rows4(w, o, rowBytes, cols, x, y, r);
                } else {
                    for (int i = 0; i < 4; i++) {
                        y[r + i] = row1(w, o + i * rowBytes, cols, x);
                    }
                }
            }
        }
        return (double) rows * rowBytes * reps / ((System.nanoTime() - t0) / 1e9) / 1e9;
    }

    public static void main(String[] args) {
        int cols = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
        if (cols % (2 * L) != 0) {
            throw new IllegalArgumentException("cols must be a multiple of " + 2 * L);
        }
        long bytes = 256L << 20;
        int rows = (int) (bytes / (2L * cols)) / 4 * 4, cached = Math.max(4, (256 << 10) / (2 * cols) / 4 * 4);
        MemorySegment w = Arena.ofShared().allocate(bytes, 64);
        for (long i = 0; i < bytes; i += 2) {
            w.set(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) 0x3F80);   // BF16 1.0 (and a finite fp32 pattern)
        }
        float[] x = new float[cols], y = new float[rows];
        for (int i = 0; i < cols; i++) {
            x[i] = 0.001f * i;
        }
        System.out.printf("%d columns per row, %d-lane vectors; GB/s of weights read by one core%n", cols, L);
        System.out.println("round  streamed: 4 rows  1 row  fp32 dot   in L2: 4 rows  1 row");
        float sink = 0;
        for (int round = 1; round <= 8; round++) {
            double s4 = rate(w, rows, cols, x, y, 1, true), s1 = rate(w, rows, cols, x, y, 1, false);
            long t0 = System.nanoTime();
            sink += dotF32(w, bytes);
            double dot = bytes / ((System.nanoTime() - t0) / 1e9) / 1e9;
            int reps = (int) Math.max(1, bytes / ((long) cached * 2 * cols) / 4);
            double c4 = rate(w, cached, cols, x, y, reps, true), c1 = rate(w, cached, cols, x, y, reps, false);
            System.out.printf("%5d  %16.1f %6.1f %9.1f %15.1f %6.1f%n", round, s4, s1, dot, c4, c1);
        }
        if (Float.isNaN(sink + y[0])) {
            System.out.println("(unreachable)");
        }
    }
}
