package org.nestlm.eval;

import java.util.List;

/**
 * Everything measured for one model (or one budget of an elastic checkpoint).
 *
 * @param model      label: directory name, {@code name@budget} for a budget
 * @param budget     the budget asked for, or null for a plain checkpoint
 * @param parameters parameters of the model scored
 * @param text       held-out text results, in {@code --data} order
 * @param blimp      minimal-pair results, in {@code --data} order
 */
public record ModelResult(String model, String budget, long parameters, List<TextScore> text, List<BlimpScore> blimp) {

    public ModelResult {
        text = List.copyOf(text);
        blimp = List.copyOf(blimp);
    }

    /** The text result for a data label, or null. */
    public TextScore text(String data) {
        return text.stream().filter(t -> t.data().equals(data)).findFirst().orElse(null);
    }
}
