/**
 * Nested sizes without DJL: a budget or limits resolve, in {@link org.nestlm.sizes.ElasticModel}, to one sub-model of
 * a checkpoint (its sizes and index sets, elastic.json, the router's forward pass in plain Java, selection by
 * memory and latency), which slicing, serving and every command then run (docs/METHOD.md §8).
 */
package org.nestlm.sizes;
