package org.nestlm.api;

/**
 * One turn of a conversation.
 *
 * @param role    who speaks
 * @param content what is said (not null)
 */
public record ChatMessage(Role role, String content) {

    /** The speakers a chat template knows. */
    public enum Role { SYSTEM, USER, ASSISTANT }

    public ChatMessage {
        if (role == null) {
            throw new IllegalArgumentException("role is missing");
        }
        if (content == null) {
            throw new IllegalArgumentException("content is missing");
        }
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(Role.SYSTEM, content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(Role.USER, content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage(Role.ASSISTANT, content);
    }
}
