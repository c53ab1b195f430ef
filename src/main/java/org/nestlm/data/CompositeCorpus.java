package org.nestlm.data;

import org.nestlm.io.AtomicFiles.IOConsumer;

import java.io.IOException;
import java.util.List;

/** Several corpora read one after the other ({@code --corpus default --corpus my-notes/}); each splits its own way. */
public record CompositeCorpus(List<Corpus> parts) implements Corpus {

    public CompositeCorpus {
        parts = List.copyOf(parts);
    }

    @Override
    public String description() {
        return String.join(" + ", parts.stream().map(Corpus::description).toList());
    }

    @Override
    public void forEach(Split split, IOConsumer<Document> action) throws IOException {
        for (Corpus c : parts) {
            c.forEach(split, action);
        }
    }
}
