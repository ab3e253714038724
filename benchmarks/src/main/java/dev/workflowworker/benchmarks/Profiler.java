package dev.workflowworker.benchmarks;

/**
 * Profiles the measured passes alone, with async-profiler, when asked: run with its jar on the
 * class path (Maven Central {@code tools.profiler:async-profiler}) and
 * {@code -Dbench.profile=/path/to/libasyncProfiler.so} (the library is inside the jar), and each
 * measured partitioned pass writes {@code benchmarks/target/profile-<pass>.collapsed} (collapsed
 * stacks by thread, CPU, 1 ms). Reflection keeps the profiler out of the benchmark's dependencies.
 */
final class Profiler {

    private static final String LIB = System.getProperty("bench.profile");
    private static String file;

    private Profiler() {
    }

    static void start(String pass) {
        if (LIB == null) {
            return;
        }
        file = System.getProperty("bench.profile.dir", "benchmarks/target") + "/profile-" + pass + ".collapsed";
        // A count event (context-switches) takes a plain count as its interval: -Dbench.profile.interval=1.
        execute("start,event=" + System.getProperty("bench.profile.event", "cpu") + ",interval="
                + System.getProperty("bench.profile.interval", "1ms") + ",threads");
    }

    static void stop() {
        if (LIB != null) {
            execute("stop,collapsed,file=" + file);
        }
    }

    private static void execute(String command) {
        try {
            Class<?> c = Class.forName("one.profiler.AsyncProfiler");
            Object profiler = c.getMethod("getInstance", String.class).invoke(null, LIB);
            c.getMethod("execute", String.class).invoke(profiler, command);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("async-profiler: " + command + " failed", e);
        }
    }
}
