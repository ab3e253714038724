package dev.workflowworker.examples;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;

/**
 * Entry point of the examples jar. With no arguments it runs the quickstart ({@link Quickstart}, on
 * Redis when {@code REDIS_URL} is set); {@code serve} runs the service mode ({@link ServiceMode}),
 * {@code produce} publishes demo events for it ({@link Produce}), {@code admin} inspects the
 * stream and its dead letters, and manages its schedules and delayed events ({@link AdminCli}).
 */
public final class Main {

    private Main() {
    }

    static final String USAGE = "usage: java -jar workflow-worker-examples.jar [quickstart|embed|serve|produce ...|admin ...]";

    /**
     * @param args the command ({@code quickstart} when absent, {@code embed}, {@code serve},
     *     {@code produce} or {@code admin}) and its arguments
     * @throws Exception if the example fails
     */
    public static void main(String[] args) throws Exception {
        configureLogging();
        String command = args.length == 0 ? "quickstart" : args[0];
        if ("quickstart".equals(command) && System.getenv("LOG_LEVEL") == null) {
            // The quickstart prints its own dead-letter summary; one warning per dead letter would bury it.
            // The library's package, not one of its classes: which class logs the warning is not a contract.
            System.setProperty("org.slf4j.simpleLogger.log.dev.workflowworker.core", "error");
        }
        switch (command) {
            case "quickstart" -> System.exit(Quickstart.run(System.getenv(), System.out));
            case "embed" -> EmbeddingExample.main(Arrays.copyOfRange(args, 1, args.length));
            case "serve" -> serve();
            case "produce" -> System.exit(Produce.run(Arrays.asList(args).subList(1, args.length), System.getenv(),
                    System.out, System.err));
            case "admin" -> System.exit(AdminCli.run(Arrays.asList(args).subList(1, args.length), System.getenv(),
                    System.out, System.err));
            default -> {
                System.err.println("unknown command '" + command + "'");
                System.err.println(USAGE);
                System.exit(2);
            }
        }
    }

    /** Runs the service mode until SIGTERM or Ctrl-C, then drains and exits 0 (1 if the drain timed out). */
    private static void serve() throws InterruptedException {
        ServiceMode mode;
        try {
            mode = ServiceMode.start(System.getenv());
        } catch (ServiceMode.StartupException e) {
            System.err.println("serve: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            boolean drained = mode.drain();
            System.out.flush();
            System.err.flush();
            // Without halt the JVM reports 143 (128 + SIGTERM) even after a clean drain, which
            // service managers take for a crash. Nothing in this process calls System.exit once
            // serving, so the hook only ever runs for a signal and its code is the drain's.
            Runtime.getRuntime().halt(drained ? 0 : 1);
        }, "workflow-worker-drain"));
        new CountDownLatch(1).await();
    }

    /** LOG_LEVEL=debug turns on debug logging, as in the Alga PSA Workflow Worker Service. Must run before any logger exists. */
    static void configureLogging() {
        String level = System.getenv("LOG_LEVEL");
        if (level != null && !level.isBlank()) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", level.trim().toLowerCase(Locale.ROOT));
        }
    }
}
