package org.nestlm.langchain4j;

import dev.langchain4j.model.chat.request.ChatRequestParameters;
import org.nestlm.api.ChatTemplate;
import org.nestlm.api.Sampling;
import org.nestlm.api.TextModel;

/** What both chat models hold: the answering size, the default sampling and the chat template. */
abstract class NestlmModelBase {

    final TextModel model;
    final Sampling sampling;
    final ChatTemplate template;

    NestlmModelBase(NestlmModelBuilder<?, ?> b) {
        this.model = b.requireModel();
        this.sampling = b.sampling;
        this.template = b.template;
    }

    /** The size answering. */
    public TextModel model() {
        return model;
    }

    /** The size's id as model name, and the builder's sampling: what a request that sets nothing gets. */
    public ChatRequestParameters defaultRequestParameters() {
        return ChatRequests.defaults(model, sampling);
    }
}
