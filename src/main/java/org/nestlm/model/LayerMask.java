package org.nestlm.model;

import ai.djl.ndarray.NDArray;

/**
 * The elastic masks one layer sees in a masked forward pass (docs/METHOD.md §4). Every mask is a
 * 0/1 array (exactly 0 or 1 in the forward pass, also when it carries a straight-through gradient to the
 * router); {@code null} means "all active". The meaning of each field depends on the layer kind:
 *
 * <ul>
 *   <li>{@code hidden} [H]: the residual-stream (embedding) channels, shared by every layer;</li>
 *   <li>{@code width}: MLP neurons [F]; for Mamba the (head, channel) pairs [nh·hd], head-major —
 *       the outer product of the kept heads and the head channels kept in every head; unused by attention;</li>
 *   <li>{@code heads}: Mamba heads [nh] (the same count in every group); attention query heads [nH] (the same
 *       count in every KV group; KV heads are never masked); unused by MLPs;</li>
 *   <li>{@code keep} (scalar): the layer's depth gate γ: the layer adds {@code γ·mixer(u)} to the residual.</li>
 * </ul>
 */
public record LayerMask(NDArray hidden, NDArray width, NDArray heads, NDArray keep) {

    public static final LayerMask NONE = new LayerMask(null, null, null, null);

    /** Multiplies {@code x} [..., C] by a channel mask [C], or returns it unchanged for {@code null}. */
    public static NDArray apply(NDArray x, NDArray mask) {
        return mask == null ? x : x.mul(mask);
    }
}
