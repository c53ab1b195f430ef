/**
 * Held-out evaluation of a checkpoint or any of its nested sizes: perplexity per token and word, bits per byte,
 * BLiMP accuracy (docs/CORPORA.md §5).
 */
package org.nestlm.eval;
