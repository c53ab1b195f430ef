package org.nestlm.api;

import org.nestlm.infer.ChatFormat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a conversation into the prompt for the next assistant turn, and says which strings end that turn.
 * {@link #PLAIN} is the format {@code nestlm chat} and {@code nestlm serve} use; a model trained on another
 * format gets its own implementation.
 */
public interface ChatTemplate {

    /** The prompt text that the model continues with the assistant's answer. */
    String render(List<ChatMessage> messages);

    /** Strings that end the assistant's turn (added to the sampling's own stop strings). */
    List<String> stops();

    /**
     * {@code System: …\nUser: …\nAssistant: …\n…Assistant:}, stopping at the next {@code \nUser:} or
     * {@code \nSystem:}.
     */
    ChatTemplate PLAIN = new ChatTemplate() {
        @Override
        public String render(List<ChatMessage> messages) {
            List<ChatFormat.Message> m = new ArrayList<>();
            for (ChatMessage c : messages) {
                m.add(new ChatFormat.Message(c.role().name().toLowerCase(Locale.ROOT), c.content()));
            }
            return ChatFormat.render(m);
        }

        @Override
        public List<String> stops() {
            return ChatFormat.STOPS;
        }
    };
}
