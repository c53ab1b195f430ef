/**
 * The OpenAI-compatible HTTP server that answers for every size of one checkpoint from a single mapping of its
 * weights.
 */
package org.nestlm.serve;
