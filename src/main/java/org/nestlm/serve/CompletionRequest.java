package org.nestlm.serve;

import com.fasterxml.jackson.databind.JsonNode;
import org.nestlm.infer.ChatFormat;
import org.nestlm.infer.LanguageModel;
import org.nestlm.infer.SamplingParams;

import java.util.ArrayList;
import java.util.List;

/**
 * A validated {@code /v1/completions} or {@code /v1/chat/completions} body: the prompt as token ids, the
 * sampling parameters and whether to stream. Every rejection is an {@link ApiException} naming the field.
 *
 * @param chat   true for chat completions (the prompt is the rendered conversation)
 * @param prompt prompt token ids
 */
record CompletionRequest(boolean chat, int[] prompt, SamplingParams params, boolean stream) {

    /** OpenAI's default for max_tokens on /v1/completions. */
    static final int DEFAULT_MAX_TOKENS = 16;

    static CompletionRequest parse(JsonNode body, boolean chat, LanguageModel lm) {
        if (body == null || !body.isObject()) {
            throw ApiException.badField(null, "the request body must be a JSON object");
        }
        // 'model', 'budget' and 'elastic' pick the answering model before parsing (OpenAiServer.select)
        refuseUnsupported(body);
        int[] prompt = chat ? chatPrompt(body, lm) : completionPrompt(body, lm);
        int limit = lm.engine().contextLimit();
        String promptField = chat ? "messages" : "prompt";
        if (prompt.length == 0) {
            throw ApiException.badField(promptField, "'" + promptField + "' has no tokens");
        }
        if (prompt.length > limit) {
            throw new ApiException(400, "'" + promptField + "' has " + prompt.length
                    + " tokens, more than the context limit of " + limit, promptField, "context_length_exceeded");
        }
        int vocab = lm.engine().vocabSize();
        for (int id : prompt) {
            if (id < 0 || id >= vocab) {
                throw ApiException.badField(promptField, "token id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
        }
        int maxTokens = intField(body, "max_tokens", chat ? Math.max(1, limit - prompt.length) : DEFAULT_MAX_TOKENS);
        if (chat && body.has("max_completion_tokens")) {
            maxTokens = intField(body, "max_completion_tokens", maxTokens);
        }
        maxTokens = Math.min(maxTokens, 1 << 20);
        double temperature = numberField(body, "temperature", 1.0);
        double topP = numberField(body, "top_p", 1.0);
        int topK = intField(body, "top_k", 0);
        Long seed = body.hasNonNull("seed") ? (long) intField(body, "seed", 0) : null;
        List<String> stop = stops(body.get("stop"));
        if (!stop.isEmpty() && !lm.hasTokenizer()) {
            throw ApiException.badField("stop", "'stop' needs a tokenizer; this model has none");
        }
        List<String> stops = new ArrayList<>(stop);
        if (chat) {
            stops.addAll(ChatFormat.STOPS);
        }
        boolean ignoreEos = boolField(body, "ignore_eos", false);
        boolean stream = boolField(body, "stream", false);
        streamOptions(body.get("stream_options"), stream);
        SamplingParams params;
        try {
            params = new SamplingParams(maxTokens, temperature, topK, topP, seed, stops, ignoreEos);
        } catch (IllegalArgumentException e) {
            String msg = e.getMessage();
            String field = msg.startsWith("max_tokens") ? "max_tokens" : msg.startsWith("temperature") ? "temperature"
                    : msg.startsWith("top_k") ? "top_k" : msg.startsWith("top_p") ? "top_p" : "stop";
            throw ApiException.badField(field, msg);
        }
        return new CompletionRequest(chat, prompt, params, stream);
    }

    /**
     * OpenAI fields this server does not implement, refused when they ask for something other than their
     * default (silently ignoring them would answer a different question): several choices, log probabilities,
     * echo, suffix, logit bias, penalties, tools and structured output.
     */
    private static void refuseUnsupported(JsonNode body) {
        for (String f : List.of("n", "best_of")) {
            JsonNode n = body.get(f);
            if (n != null && !n.isNull() && !(n.isIntegralNumber() && n.asLong() == 1)) {
                throw ApiException.badField(f, "'" + f + "' = " + n + " is not supported: this server returns one choice per request"
                        + " (send the request several times, with different seeds)");
            }
        }
        for (String f : List.of("logprobs", "top_logprobs", "echo", "suffix", "logit_bias", "presence_penalty",
                "frequency_penalty", "tools", "tool_choice", "functions", "function_call")) {
            JsonNode n = body.get(f);
            boolean dflt = n == null || n.isNull() || (n.isBoolean() && !n.asBoolean()) || (n.isNumber() && n.asDouble() == 0)
                    || (n.isTextual() && n.asText().isEmpty()) || (n.isContainerNode() && n.isEmpty())
                    || (f.equals("tool_choice") && n.isTextual() && n.asText().equals("none"));
            if (!dflt) {
                throw ApiException.badField(f, "'" + f + "' is not supported by this server");
            }
        }
        JsonNode rf = body.get("response_format");
        if (rf != null && !rf.isNull() && !(rf.isObject() && "text".equals(rf.path("type").asText()))) {
            throw ApiException.badField("response_format", "'response_format' other than {\"type\": \"text\"} is not supported by this server");
        }
    }

    /** "prompt": a string, an array of token ids, or an array holding one string. */
    private static int[] completionPrompt(JsonNode body, LanguageModel lm) {
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) {
            throw ApiException.badField("prompt", "'prompt' is required");
        }
        if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
            p = p.get(0);
        }
        if (p.isTextual()) {
            if (!lm.hasTokenizer()) {
                throw ApiException.badField("prompt", "this model has no tokenizer: send 'prompt' as an array of token ids");
            }
            return lm.text().encode(p.asText());
        }
        if (p.isArray()) {
            int[] ids = new int[p.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonNode e = p.get(i);
                if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                    throw ApiException.badField("prompt", "'prompt' must be a string or an array of token ids (element "
                            + i + " is " + e + ")");
                }
                ids[i] = e.asInt();
            }
            return ids;
        }
        throw ApiException.badField("prompt", "'prompt' must be a string or an array of token ids");
    }

    /** "messages": [{"role": "system"|"user"|"assistant", "content": string}, …], rendered by {@link ChatFormat}. */
    private static int[] chatPrompt(JsonNode body, LanguageModel lm) {
        JsonNode m = body.get("messages");
        if (m == null || !m.isArray() || m.isEmpty()) {
            throw ApiException.badField("messages", "'messages' must be a non-empty array of {role, content}");
        }
        if (!lm.hasTokenizer()) {
            throw ApiException.badField("messages", "chat completions need a tokenizer; this model has none");
        }
        List<ChatFormat.Message> messages = new ArrayList<>();
        for (int i = 0; i < m.size(); i++) {
            JsonNode e = m.get(i);
            JsonNode role = e.get("role"), content = e.get("content");
            if (role == null || !role.isTextual() || content == null || !content.isTextual()) {
                throw ApiException.badField("messages[" + i + "]", "messages[" + i
                        + "] must have a string 'role' and a string 'content'");
            }
            try {
                messages.add(new ChatFormat.Message(role.asText(), content.asText()));
            } catch (IllegalArgumentException ex) {
                throw ApiException.badField("messages[" + i + "].role", "messages[" + i + "]: " + ex.getMessage());
            }
        }
        return lm.text().encode(ChatFormat.render(messages));
    }

    private static List<String> stops(JsonNode s) {
        if (s == null || s.isNull()) {
            return List.of();
        }
        if (s.isTextual()) {
            return s.asText().isEmpty() ? List.of() : List.of(s.asText());
        }
        if (s.isArray()) {
            List<String> out = new ArrayList<>();
            for (JsonNode e : s) {
                if (!e.isTextual()) {
                    throw ApiException.badField("stop", "'stop' must be a string or an array of strings");
                }
                if (!e.asText().isEmpty()) {
                    out.add(e.asText());
                }
            }
            return out;
        }
        throw ApiException.badField("stop", "'stop' must be a string or an array of strings");
    }

    /**
     * {@code "stream_options": {"include_usage": bool}} (streaming only). Usage comes with the final chunk of every
     * stream, so include_usage needs nothing more; it is validated so that a malformed value is not silently ignored.
     */
    private static void streamOptions(JsonNode o, boolean stream) {
        if (o == null || o.isNull()) {
            return;
        }
        if (!stream) {
            throw ApiException.badField("stream_options", "'stream_options' is only allowed with \"stream\": true");
        }
        if (!o.isObject()) {
            throw ApiException.badField("stream_options", "'stream_options' must be an object such as {\"include_usage\": true}");
        }
        var names = o.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!name.equals("include_usage")) {
                throw ApiException.badField("stream_options." + name, "'stream_options." + name + "' is not supported (only include_usage)");
            }
            if (!o.get(name).isBoolean()) {
                throw ApiException.badField("stream_options.include_usage", "'stream_options.include_usage' must be true or false, got "
                        + o.get(name));
            }
        }
    }

    private static int intField(JsonNode body, String field, int dflt) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw ApiException.badField(field, "'" + field + "' must be an integer, got " + n);
        }
        return n.asInt();
    }

    private static double numberField(JsonNode body, String field, double dflt) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isNumber()) {
            throw ApiException.badField(field, "'" + field + "' must be a number, got " + n);
        }
        return n.asDouble();
    }

    private static boolean boolField(JsonNode body, String field, boolean dflt) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return dflt;
        }
        if (!n.isBoolean()) {
            throw ApiException.badField(field, "'" + field + "' must be true or false, got " + n);
        }
        return n.asBoolean();
    }
}
