/**
 * LangChain4j models over an in-process nestlm model: {@link org.nestlm.langchain4j.NestlmChatModel} and
 * {@link org.nestlm.langchain4j.NestlmStreamingChatModel}, each answered by one size of a checkpoint opened with
 * {@link org.nestlm.api.Nestlm} (a nested size chosen by budget or by limits), usable wherever LangChain4j takes a
 * {@code ChatModel} or {@code StreamingChatModel}, e.g. {@code AiServices}.
 */
package org.nestlm.langchain4j;
