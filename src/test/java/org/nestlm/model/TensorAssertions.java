package org.nestlm.model;

import ai.djl.ndarray.NDArray;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Comparisons of DJL tensors for the model tests: same shape, every element within an absolute tolerance. */
final class TensorAssertions {

    private TensorAssertions() {
    }

    /** {@code actual} has {@code expected}'s shape and max |expected − actual| ≤ {@code tol}; {@code what} names it. */
    static void assertClose(NDArray expected, NDArray actual, double tol, String what) {
        assertTrue(expected.getShape().equals(actual.getShape()),
                what + ": shape " + actual.getShape() + " != " + expected.getShape());
        float[] e = expected.toFloatArray(), a = actual.toFloatArray();
        double max = 0;
        for (int i = 0; i < e.length; i++) {
            max = Math.max(max, Math.abs(e[i] - a[i]));
        }
        assertTrue(max <= tol, what + ": max |diff| " + max + " > " + tol);
    }
}
