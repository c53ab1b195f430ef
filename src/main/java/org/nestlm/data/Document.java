package org.nestlm.data;

/**
 * One document of a corpus: a name that says where it came from (a path relative to what the user passed, a
 * JSONL file and line, or a file of the fetched corpus) and its text. Token streams put an end-of-text token
 * after every document, so document boundaries are visible to the model.
 */
public record Document(String name, String text) {
}
