package org.nestlm.io;

import java.util.Arrays;

/** Small shape helpers shared by the readers and writers of this package. */
final class Shapes {

    private Shapes() {
    }

    /**
     * Number of elements of {@code shape} (1 for a scalar, shape {@code []}).
     *
     * @throws ArithmeticException if the product overflows a long
     * @throws IllegalArgumentException if a dimension is negative
     */
    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Byte size of a tensor of this shape and dtype; throws ArithmeticException on overflow. */
    static long byteSize(long[] shape, DType dtype) {
        return Math.multiplyExact(numel(shape), (long) dtype.byteSize());
    }
}
