package org.nestlm.cli;

import org.nestlm.io.DType;
import org.nestlm.model.Architecture;
import org.nestlm.model.ConfigJson;
import org.nestlm.model.Initializer;
import org.nestlm.model.ModelConfig;
import org.nestlm.model.Presets;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code nestlm init}: writes a randomly initialised checkpoint. */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = "Write a randomly initialised Nemotron-H checkpoint (config.json + model.safetensors).",
        footer = {"", "Examples:", "  nestlm init --preset tiny --out tiny",
                "  nestlm init --config my-config.json --out my-model --seed 7 --dtype bf16"})
final class InitCommand implements Callable<Integer> {

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--preset", description = "Named size: tiny (205 K parameters), mini (2.4 M), small (7.2 M).")
        String preset;
        @Option(names = "--config", description = "A Nemotron-H config.json to instantiate.")
        Path config;
    }

    @Option(names = "--out", required = true, description = "Output directory.")
    Path out;

    @Option(names = "--seed", defaultValue = "0", description = "Random seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--dtype", defaultValue = "f32", description = "Weight dtype on disk: f32 or bf16 (default ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--force", description = "Overwrite a checkpoint already in --out.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        ModelConfig config = source.preset != null ? Presets.get(source.preset) : ConfigJson.read(source.config);
        DType d = CliSupport.weightDType(dtype);
        if (Files.exists(out.resolve(ConfigJson.FILE_NAME)) && !force) {
            throw new UserException(out + " already holds a checkpoint; pass --force to overwrite it");
        }
        Architecture arch = Architecture.fromConfig(config);
        org.nestlm.model.Checkpoint.write(out, config, Initializer.initialize(arch, seed), arch, d);
        System.out.printf("wrote %s: %s parameters, %s layers (%s), %s weights%n", out,
                CliSupport.count(arch.parameterCount()), arch.layers().size(), config.hybridOverridePattern(),
                d.name());
        return 0;
    }
}
