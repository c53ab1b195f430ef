package org.nestlm.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * The one way values from Java reach libtorch: every tensor made here lives in memory libtorch allocated and
 * frees, so autograd can keep it for the backward pass as long as it needs (docs/REPRODUCIBILITY.md §1).
 *
 * <p>DJL's own paths do not guarantee that: {@code NDManager.create(float[]…)} wraps a Java direct buffer without
 * copying, and {@code x.mul(0.5)} (every {@code Number} overload) makes such a 0-d tensor and closes it right
 * after the call. Closing the Java array frees the buffer at the next garbage collection, yet a tensor that
 * autograd saved for the backward pass (the {@code s} of {@code x·s}, the exponent of a power, a mask) still
 * points there, so the gradient is computed from whatever the memory holds by then. The project's code therefore
 * never calls those methods directly (a test checks the compiled classes); it calls these.
 */
public final class Tensors {

    private Tensors() {
    }

    // ---- tensors from Java data: copied once into libtorch's memory ----

    /** fp32 tensor of {@code shape} holding {@code data} (row-major). */
    public static NDArray of(NDManager m, float[] data, Shape shape) {
        try (NDArray view = m.create(data, shape)) {   // over a Java buffer: cloned, then released
            return view.duplicate();
        }
    }

    /** 1-d fp32 tensor holding {@code data}. */
    public static NDArray of(NDManager m, float[] data) {
        return of(m, data, new Shape(data.length));
    }

    /** int64 tensor of {@code shape} holding {@code data} (token ids, indices). */
    public static NDArray of(NDManager m, long[] data, Shape shape) {
        try (NDArray view = m.create(data, shape)) {
            return view.duplicate();
        }
    }

    /** 1-d int64 tensor holding {@code data}. */
    public static NDArray of(NDManager m, long[] data) {
        return of(m, data, new Shape(data.length));
    }

    /**
     * The storage of a dense fp32 CPU tensor as a segment, read and written in place: a view of libtorch's memory,
     * valid while the tensor lives. DJL's buffer call returns a contiguous copy of any other tensor, so the view is
     * asked for twice and must be the same memory both times (a copy would lie elsewhere).
     *
     * @throws IllegalStateException when {@code x} is not a contiguous fp32 CPU tensor
     */
    public static MemorySegment storage(NDArray x) {
        long bytes = x.getShape().size() * Float.BYTES;
        ByteBuffer b = JniUtils.getByteBuffer((PtNDArray) x, true);
        if (x.getDataType() != DataType.FLOAT32 || !b.isDirect() || b.capacity() != bytes) {
            throw new IllegalStateException("not a dense fp32 CPU tensor of " + bytes + " bytes: " + x.getShape() + " " + x.getDataType());
        }
        MemorySegment view = MemorySegment.ofBuffer(b);
        if (MemorySegment.ofBuffer(JniUtils.getByteBuffer((PtNDArray) x, true)).address() != view.address()) {
            throw new IllegalStateException("not a contiguous tensor (its buffer is a copy): " + x.getShape());
        }
        return view;
    }

    /** 0-d fp32 tensor holding {@code value}, in libtorch's memory. */
    public static NDArray scalar(NDManager m, double value) {
        return m.full(new Shape(), (float) value, DataType.FLOAT32);
    }

    /** Overwrites {@code target} in place with {@code data} (same element count), keeping its storage and flags. */
    public static void assign(NDArray target, float[] data) {
        if (data.length != target.getShape().size()) {
            throw new IllegalArgumentException("cannot assign " + data.length + " values to a tensor of shape "
                    + target.getShape());
        }
        try (NDArray src = of(target.getManager(), data, target.getShape())) {
            target.set(new NDIndex("..."), src);
        }
    }

    // ---- arithmetic with a number: the number as an owned 0-d tensor. Its handle is closed after the call (so
    //      it never accumulates in a long-lived manager); autograd keeps its own reference to the storage. ----

    /** {@code x · s}. */
    public static NDArray mul(NDArray x, double s) {
        return withScalar(x, s, NDArray::mul);
    }

    /** {@code x / s}. */
    public static NDArray div(NDArray x, double s) {
        return withScalar(x, s, NDArray::div);
    }

    /** {@code x + s}. */
    public static NDArray add(NDArray x, double s) {
        return withScalar(x, s, NDArray::add);
    }

    /** {@code x − s}. */
    public static NDArray sub(NDArray x, double s) {
        return withScalar(x, s, NDArray::sub);
    }

    /** {@code x^e}, element-wise. */
    public static NDArray pow(NDArray x, double e) {
        return withScalar(x, e, NDArray::pow);
    }

    /** {@code max(x, s)}, element-wise. */
    public static NDArray maximum(NDArray x, double s) {
        return withScalar(x, s, NDArray::maximum);
    }

    /** {@code x > s}, element-wise (boolean). */
    public static NDArray gt(NDArray x, double s) {
        return withScalar(x, s, NDArray::gt);
    }

    /** {@code x ← x · s} in place (outside autograd: optimizer state). */
    public static NDArray muli(NDArray x, double s) {
        return withScalar(x, s, NDArray::muli);
    }

    /** {@code op(x, s)} with {@code s} as an owned 0-d tensor in x's manager, whose handle is closed afterwards. */
    private static NDArray withScalar(NDArray x, double s, java.util.function.BinaryOperator<NDArray> op) {
        try (NDArray t = scalar(x.getManager(), s)) {
            return op.apply(x, t);
        }
    }
}
