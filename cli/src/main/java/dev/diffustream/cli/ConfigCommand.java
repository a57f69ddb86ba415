package dev.diffustream.cli;

import dev.diffustream.infra.config.ConfigLoader.Loaded;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code diffustream config --print | --describe}: the resolved recipe, or every key documented.
 */
@Command(
        name = "config",
        description = {
            "Prints the resolved recipe (defaults → --recipe FILE → DIFFUSTREAM_* environment → options) as YAML,"
                    + " or with --describe every key with its type, default and description."
        })
final class ConfigCommand implements Callable<Integer> {

    enum Format {
        text,
        markdown
    }

    @Spec CommandSpec spec;

    @Option(names = "--describe", description = "Document every recipe key instead.")
    boolean describe;

    @Option(names = "--print", description = "Print the resolved recipe (the default).")
    boolean print;

    @Option(
            names = "--format",
            defaultValue = "text",
            description =
                    "Format of --describe: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE}).")
    Format format;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Main main = Main.of(spec);
        if (describe && print) {
            throw new CliException("--describe and --print are exclusive");
        }
        if (describe) {
            out.print(
                    format == Format.markdown
                            ? main.loader().describeMarkdown()
                            : main.loader().describeText());
        } else {
            Loaded<Recipe> loaded = main.loadedRecipe();
            out.println(
                    "# resolved recipe"
                            + (main.recipeFile == null ? "" : " " + main.recipeFile)
                            + ", sha256 "
                            + loaded.sha256());
            out.print(loaded.yaml());
        }
        out.flush();
        return 0;
    }
}
