package org.nestlm.langchain4j;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Collects a streamed answer for tests: the partial texts in order, and the complete response or the error. */
public final class StreamResult implements StreamingChatResponseHandler {

    private final StringBuilder parts = new StringBuilder();
    private final CompletableFuture<ChatResponse> done = new CompletableFuture<>();

    @Override
    public synchronized void onPartialResponse(String partial) {
        parts.append(partial);
    }

    @Override
    public void onCompleteResponse(ChatResponse r) {
        done.complete(r);
    }

    @Override
    public void onError(Throwable t) {
        done.completeExceptionally(t);
    }

    /** The complete response; throws what {@link #onError} received. */
    public ChatResponse response() throws Exception {
        return done.get(60, TimeUnit.SECONDS);
    }

    /** The error {@link #onError} received, or null when the answer completed. */
    public Throwable error() throws Exception {
        try {
            done.get(60, TimeUnit.SECONDS);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        }
    }

    public synchronized String parts() {
        return parts.toString();
    }
}
