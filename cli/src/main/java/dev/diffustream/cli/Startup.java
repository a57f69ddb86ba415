package dev.diffustream.cli;

import dev.diffustream.infra.config.ConfigLoader;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;

/** The start-up banner of a service: its resolved configuration sections (STYLE rule 7). */
final class Startup {
    private Startup() {}

    /** Prints "{@code name}: run X, recipe sha…" and the given sections as YAML. */
    static void print(
            PrintWriter err,
            String name,
            Recipe recipe,
            String sha256,
            Map<String, Record> sections) {
        err.printf(
                Locale.ROOT,
                "diffustream %s: run %s, kafka %s, registry %s, recipe sha256 %s%n",
                name,
                recipe.run().id(),
                recipe.kafka().bootstrap(),
                recipe.kafka().registry(),
                sha256.substring(0, 12));
        for (Map.Entry<String, Record> e : sections.entrySet()) {
            err.println(e.getKey() + ":");
            for (String line : ConfigLoader.toYaml(e.getValue()).split("\n")) {
                if (!line.isBlank() && !line.equals("---")) {
                    err.println("  " + line);
                }
            }
        }
        err.flush();
    }
}
