package org.nestlm.cli;

import org.nestlm.dist.World;
import org.nestlm.util.DjlRuntime;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code nestlm}: the command-line entry point. Each subcommand is one class in this package. */
@Command(name = "nestlm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Nemotron Elastic on the JVM: one hybrid Mamba-2 / attention model that holds nested smaller models.",
        subcommands = {
                InitCommand.class,
                InfoCommand.class,
                ScoreCommand.class,
                GenerateCommand.class,
                ChatCommand.class,
                ServeCommand.class,
                BenchCommand.class,
                DataCommand.class,
                TokenizerCommand.class,
                PretrainCommand.class,
                ImportanceCommand.class,
                SliceCommand.class,
                ElastifyCommand.class,
                ElasticCommand.class,
                EvalCommand.class,
                DemoCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        DjlRuntime.configure();
        if (World.launchedByMpi(System.getenv())) {
            int rank;
            try {
                rank = World.communicator().rank();
            } catch (IllegalStateException e) {
                System.err.println("error: " + e.getMessage());
                System.exit(2);
                return;
            }
            if (rank != 0) {
                // one rank speaks for the job (mpirun merges every rank's output); errors still reach stderr
                System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            }
        }
        int code = 1;
        try {
            code = run(args);
        } catch (Throwable t) {
            t.printStackTrace();
        } finally {
            World.exit(code);
        }
        System.exit(code);
    }

    /** Runs a command line and returns its exit code (used by tests, which must not exit the JVM). */
    public static int run(String... args) {
        DjlRuntime.configure();
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // Expected failures (bad input) print one clear line; anything else keeps its stack trace.
            if (ex instanceof java.io.IOException || ex instanceof IllegalArgumentException
                    || ex instanceof UserException || ex instanceof org.nestlm.api.NestlmException) {
                cmd.getErr().println("error: " + CliSupport.errorMessage(ex));
                return 2;
            }
            throw ex;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The version from the jar manifest, or "dev" when run from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"nestlm " + (v == null ? "dev" : v)};
        }
    }
}
