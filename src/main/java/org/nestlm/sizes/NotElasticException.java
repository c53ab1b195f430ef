package org.nestlm.sizes;

import java.nio.file.Path;

/** A nested size asked of a checkpoint that has none: it has no elastic.json. */
public final class NotElasticException extends IllegalArgumentException {

    private final Path file;

    /**
     * @param file   the elastic.json that does not exist
     * @param budget the budget asked for, or null when an interpolation range was asked for
     */
    public NotElasticException(Path file, String budget) {
        super(file + " does not exist: " + (budget == null ? "interpolated sizes need" : "budget '" + budget + "' needs")
                + " an elastic checkpoint ('nestlm elastic' or 'nestlm elastify' writes one)");
        this.file = file;
    }

    /** The missing elastic.json. */
    public Path file() {
        return file;
    }
}
