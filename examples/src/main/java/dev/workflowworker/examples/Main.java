package dev.workflowworker.examples;

import java.util.Arrays;
import java.util.Locale;

/** Entry point of the examples jar. With no arguments it runs the quickstart. */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        configureLogging();
        String command = args.length == 0 ? "quickstart" : args[0];
        if ("quickstart".equals(command) && System.getenv("LOG_LEVEL") == null) {
            // The quickstart prints its own dead-letter summary; one warning per dead letter would bury it.
            System.setProperty("org.slf4j.simpleLogger.log.dev.workflowworker.core.internal.WorkflowWorker", "error");
        }
        switch (command) {
            case "quickstart" -> System.exit(Quickstart.run(System.out));
            case "embed" -> EmbeddingExample.main(Arrays.copyOfRange(args, 1, args.length));
            default -> {
                System.err.println("unknown command '" + command + "'");
                System.err.println("usage: java -jar workflow-worker-examples.jar [quickstart|embed]");
                System.exit(2);
            }
        }
    }

    /** LOG_LEVEL=debug turns on debug logging, as in the seed system. Must run before any logger exists. */
    static void configureLogging() {
        String level = System.getenv("LOG_LEVEL");
        if (level != null && !level.isBlank()) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level.trim().toLowerCase(Locale.ROOT));
        }
    }
}
