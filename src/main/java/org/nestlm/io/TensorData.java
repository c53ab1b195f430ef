package org.nestlm.io;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor to write: float values in row-major order with their shape. The writer encodes the values in the
 * dtype it is given (F32, BF16 or F16).
 *
 * @param name   tensor name, e.g. {@code backbone.norm_f.weight}
 * @param shape  dimensions, outermost first; {@code []} is a scalar (a copy is kept and handed out)
 * @param values {@code product(shape)} elements (not copied: do not change them until written)
 */
public record TensorData(String name, long[] shape, float[] values) {

    public TensorData {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(shape, "shape");
        Objects.requireNonNull(values, "values");
        shape = shape.clone();
        long numel;
        try {
            numel = Shapes.numel(shape);
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw new IllegalArgumentException("tensor '" + name + "': invalid shape " + Arrays.toString(shape), e);
        }
        if (numel != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " has "
                    + numel + " elements but " + values.length + " values were given");
        }
    }

    /** Convenience for int shapes, e.g. {@code new TensorData("w", new int[] {2, 3}, v)}. */
    public TensorData(String name, int[] shape, float[] values) {
        this(name, Arrays.stream(shape).asLongStream().toArray(), values);
    }

    /** The dimensions (a copy). */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorData t && name.equals(t.name) && Arrays.equals(shape, t.shape)
                && Arrays.equals(values, t.values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(shape), Arrays.hashCode(values));
    }

    @Override
    public String toString() {
        return "TensorData[" + name + " " + Arrays.toString(shape) + "]";
    }
}
