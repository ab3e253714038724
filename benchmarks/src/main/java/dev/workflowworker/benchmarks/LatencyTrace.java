package dev.workflowworker.benchmarks;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * What the latency rows need to explain their tail: each measured event's send time and latency,
 * and the JIT compilers' and collectors' time over the measured window. With
 * {@code -Dlatency.trace=DIR} every event goes to {@code DIR/NAME.csv} as JVM uptime in ms (the
 * clock of {@code -Xlog:gc*::uptime} and {@code -XX:+PrintCompilation}) and latency in µs, so the
 * slow events can be laid beside the GC and JIT logs.
 */
final class LatencyTrace {

    private final String name;
    private final long[] sentNanos;
    private final long[] latencyNanos;
    /** nanoTime at JVM start, to print send times on the logs' uptime clock. */
    private final long jvmStartNanos;
    private long compileMillis;
    private long gcMillis;
    private long gcCount;

    LatencyTrace(String name, int n) {
        this.name = name;
        sentNanos = new long[n];
        latencyNanos = new long[n];
        jvmStartNanos = System.nanoTime() - ManagementFactory.getRuntimeMXBean().getUptime() * 1_000_000L;
    }

    void record(int seq, long sent, long latency) {
        if (seq >= 0 && seq < sentNanos.length) {
            sentNanos[seq] = sent;
            latencyNanos[seq] = latency;
        }
    }

    void windowStart() {
        compileMillis = -ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
        gcMillis = -gcMillis();
        gcCount = -gcCount();
    }

    void windowEnd() {
        compileMillis += ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
        gcMillis += gcMillis();
        gcCount += gcCount();
    }

    /** One line for the row's note: compiler and collector time inside the measured window. */
    String note() {
        return String.format("in the window: JIT %d ms, GC %d pauses %d ms", compileMillis, gcCount, gcMillis);
    }

    /** Prints the slowest events (uptime and latency) and writes the trace if asked. */
    void report() throws IOException {
        Integer[] order = new Integer[sentNanos.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Long.compare(latencyNanos[b], latencyNanos[a]));
        StringBuilder sb = new StringBuilder(name + " slowest (seq@uptime ms=latency ms):");
        for (int k = 0; k < Math.min(15, order.length); k++) {
            int i = order[k];
            sb.append(String.format(" %d@%.1f=%.2f", i, uptimeMillis(i), latencyNanos[i] / 1e6));
        }
        System.out.println(sb);
        System.out.println(name + " " + note());
        String dir = System.getProperty("latency.trace");
        if (dir == null) {
            return;
        }
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(Path.of(dir, name + ".csv")))) {
            w.println("seq,uptime_ms,latency_us");
            for (int i = 0; i < sentNanos.length; i++) {
                w.printf("%d,%.3f,%.1f%n", i, uptimeMillis(i), latencyNanos[i] / 1e3);
            }
        }
    }

    private double uptimeMillis(int i) {
        return (sentNanos[i] - jvmStartNanos) / 1e6;
    }

    private static long gcMillis() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(GarbageCollectorMXBean::getCollectionTime)
                .sum();
    }

    private static long gcCount() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().mapToLong(GarbageCollectorMXBean::getCollectionCount)
                .sum();
    }
}
