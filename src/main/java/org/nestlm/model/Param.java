package org.nestlm.model;

import ai.djl.ndarray.NDArray;

/**
 * One named weight of a module, stored under its canonical Hugging Face name.
 *
 * @param decay whether AdamW applies weight decay to it (false for norms, biases, embeddings and the
 *              per-head Mamba scalars, as is usual for these models)
 */
public record Param(String name, NDArray value, boolean decay) {

    public long numel() {
        return value.getShape().size();
    }
}
