/**
 * Text to token ids and back: a byte-level BPE trainer and encoder in Java, Hugging Face tokenizer.json files
 * through DJL (docs/CORPORA.md §4.1), and the memory-mapped token-id cache of a corpus split
 * ({@link org.nestlm.tokenizer.TokenCache#ids}).
 */
package org.nestlm.tokenizer;
