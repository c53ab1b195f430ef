package org.nestlm.infer;

import java.util.List;

/**
 * A simple plain-text chat format for models without a chat template of their own:
 * <pre>
 *   System: {system}\n
 *   User: {user}\n
 *   Assistant: {assistant}\n
 *   …
 *   Assistant:
 * </pre>
 * Generation stops at the next turn marker ({@link #STOPS}), so a model that goes on talking to itself is
 * cut at the end of its own turn.
 */
public final class ChatFormat {

    /** One turn: role is system, user or assistant. */
    public record Message(String role, String content) {
        public Message {
            if (!List.of("system", "user", "assistant").contains(role)) {
                throw new IllegalArgumentException("role must be system, user or assistant, got '" + role + "'");
            }
            if (content == null) {
                throw new IllegalArgumentException("content is missing");
            }
        }
    }

    /** Strings that end the assistant's turn. */
    public static final List<String> STOPS = List.of("\nUser:", "\nSystem:");

    private ChatFormat() {
    }

    /** The prompt for the next assistant turn after {@code messages}. */
    public static String render(List<Message> messages) {
        StringBuilder b = new StringBuilder();
        for (Message m : messages) {
            b.append(switch (m.role()) {
                case "system" -> "System: ";
                case "user" -> "User: ";
                default -> "Assistant: ";
            }).append(m.content().strip()).append('\n');
        }
        return b.append("Assistant:").toString();
    }
}
