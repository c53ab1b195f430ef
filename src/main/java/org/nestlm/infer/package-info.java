/**
 * The pure-Java inference engine over memory-mapped weights, with every nested size as views of them: generation,
 * sampling and speculative decoding.
 */
package org.nestlm.infer;
