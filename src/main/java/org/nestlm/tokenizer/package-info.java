/**
 * Text to token ids and back: a byte-level BPE trainer and encoder in Java, and Hugging Face tokenizer.json files
 * through DJL (docs/CORPORA.md §4.1).
 */
package org.nestlm.tokenizer;
