package org.nestlm.cli;

import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.math.BigDecimal;
import java.util.Map;

/**
 * The default values of a command's options, read from its settings record's {@code defaults()} (the one source of
 * the defaults): picocli applies them to options not given and shows them in {@code --help}. Options not in the map
 * keep their own default (or none).
 */
abstract class ConfigDefaults implements IDefaultValueProvider {

    private final Map<String, Object> values;

    /** @param values default value by option name ("--seq-len"), numbers or booleans from the record */
    ConfigDefaults(Map<String, Object> values) {
        this.values = Map.copyOf(values);
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec o)) {
            return null;
        }
        Object v = values.get(o.longestName());
        return v == null ? null : text(v);
    }

    /** The option names this provider gives defaults to. */
    java.util.Set<String> options() {
        return values.keySet();
    }

    /** Plain decimal text that parses back to the same value (0.05, not 5.0E-2). */
    static String text(Object v) {
        if (v instanceof Double d) {
            return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
        }
        return v.toString();
    }
}
