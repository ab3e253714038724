package dev.workflowworker.benchmarks;

import redis.clients.jedis.Jedis;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU spent by Redis and by this JVM between two points, and Redis's per-command statistics, so a
 * throughput figure can say where the time went (2 cores: whichever side saturates one is the limit).
 */
final class CpuMeter {

    private final String url;
    private final double redisCpu0;
    private final long jvmCpu0;
    private final Map<String, long[]> commands0;
    private final Map<String, Long> threads0;
    private final Map<Long, Long> library0;
    private final Map<String, long[]> switches0;
    private final double calibration0;

    private CpuMeter(String url) {
        this.url = url;
        try (Jedis j = new Jedis(URI.create(url))) {
            this.redisCpu0 = redisCpuSeconds(j);
            this.commands0 = commandStats(j);
        }
        this.calibration0 = calibrate();
        this.threads0 = threadTicks();
        this.library0 = libraryThreadNanos();
        this.switches0 = threadSwitches();
        this.jvmCpu0 = jvmCpuNanos();
    }

    static CpuMeter start(String url) {
        return new CpuMeter(url);
    }

    /** What happened since start, per event; the JIT's share is its compiler threads' CPU (in the JVM's). */
    record Usage(double redisMicrosPerEvent, double jvmMicrosPerEvent, double jitMicrosPerEvent, String commands,
                 String jvmThreads) {
    }

    Usage stop(long events) {
        long jvm = jvmCpuNanos() - jvmCpu0;
        Map<String, Long> ticks = threadTicks();
        long jitTicks = 0;
        for (Map.Entry<String, Long> e : ticks.entrySet()) {
            if (e.getKey().contains("CompilerThre")) {
                jitTicks += e.getValue() - threads0.getOrDefault(e.getKey(), 0L);
            }
        }
        double jit = jitTicks * 1e6 / 100 / events; // USER_HZ ticks
        String byThread = threadShare(threads0, ticks, events) + " " + libraryShare(events)
                + String.format("; fixed work before / after: %.1f / %.1f ms of CPU", calibration0, calibrate());
        try (Jedis j = new Jedis(URI.create(url))) {
            double redis = redisCpuSeconds(j) - redisCpu0;
            Map<String, long[]> after = commandStats(j);
            StringBuilder sb = new StringBuilder();
            after.forEach((cmd, v) -> {
                long[] b = commands0.getOrDefault(cmd, new long[2]);
                long calls = v[0] - b[0];
                long usec = v[1] - b[1];
                if (calls > 0 && usec * 100 >= redis * 1e6) {
                    sb.append(String.format("%s %.3f calls/event %.1f us/call; ", cmd, calls / (double) events,
                            usec / (double) calls));
                }
            });
            return new Usage(redis * 1e6 / events, jvm / 1e3 / events, jit, sb.toString().trim(), byThread);
        }
    }

    private static double redisCpuSeconds(Jedis j) {
        double total = 0;
        for (String line : j.info("cpu").split("\r?\n")) {
            if (line.startsWith("used_cpu_user:") || line.startsWith("used_cpu_sys:")) {
                total += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        return total;
    }

    /** cmdstat_xack:calls=1,usec=2,usec_per_call=2.00,... → {calls, usec} per command. */
    static Map<String, long[]> commandStats(Jedis j) {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (String line : j.info("commandstats").split("\r?\n")) {
            if (!line.startsWith("cmdstat_")) {
                continue;
            }
            String name = line.substring("cmdstat_".length(), line.indexOf(':'));
            long calls = 0;
            long usec = 0;
            for (String kv : line.substring(line.indexOf(':') + 1).split(",")) {
                String[] p = kv.split("=");
                if (p[0].equals("calls")) {
                    calls = Long.parseLong(p[1]);
                } else if (p[0].equals("usec")) {
                    usec = Long.parseLong(p[1]);
                }
            }
            out.put(name, new long[] {calls, usec});
        }
        return out;
    }

    /**
     * CPU ticks (user + system) of this process's threads since start, summed by thread name with
     * digits dropped (compiler, GC, the worker's loop, settler and handler threads), from
     * /proc/self/task; empty where there is no /proc. Says whether the JVM's CPU goes to the
     * library's threads or to the JIT and the collector.
     */
    private static Map<String, Long> threadTicks() {
        Map<String, Long> out = new java.util.TreeMap<>();
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return out;
        }
        for (java.io.File t : tasks) {
            try {
                String stat = java.nio.file.Files.readString(t.toPath().resolve("stat"));
                int open = stat.indexOf('(');
                int close = stat.lastIndexOf(')');
                String name = stat.substring(open + 1, close).replaceAll("[0-9]+", "#");
                String[] f = stat.substring(close + 2).split(" ");
                // fields 14 and 15 of stat (utime, stime) are 12 and 13 after the name
                out.merge(name, Long.parseLong(f[11]) + Long.parseLong(f[12]), Long::sum);
            } catch (java.io.IOException | RuntimeException gone) {
                // a thread that ended meanwhile
            }
        }
        return out;
    }

    private static String threadShare(Map<String, Long> before, Map<String, Long> after, long events) {
        long hz = 100; // USER_HZ on Linux
        StringBuilder sb = new StringBuilder();
        after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                .limit(8)
                .forEach(e -> sb.append(String.format("%s %.2f us; ", e.getKey(), e.getValue() * 1e6 / hz / events)));
        return sb.toString().trim();
    }

    /** The library's threads by id: their CPU time now, from the JVM (full names, where /proc cuts them at 15 characters). */
    private static Map<Long, Long> libraryThreadNanos() {
        Map<Long, Long> out = new java.util.HashMap<>();
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("workflow-worker")) {
                long cpu = mx.getThreadCpuTime(t.getId());
                if (cpu >= 0) {
                    out.put(t.getId(), cpu);
                }
            }
        }
        return out;
    }

    /**
     * Voluntary and involuntary context switches of each of this process's threads so far, by task
     * id, from /proc/self/task, and whether it is a library thread ({@code [2]} is 1). A voluntary
     * one is a thread that blocked (a park, a wait for a reply) and was woken again: per event it
     * counts the hand-overs between threads and the round trips waited for. Threads that ended
     * meanwhile are not counted; none where there is no /proc.
     */
    private static Map<String, long[]> threadSwitches() {
        Map<String, long[]> out = new java.util.HashMap<>();
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        if (tasks == null) {
            return out;
        }
        for (java.io.File t : tasks) {
            try {
                String status = java.nio.file.Files.readString(t.toPath().resolve("status"));
                long[] n = new long[3];
                n[2] = status.startsWith("Name:\tworkflow-worker") ? 1 : 0;
                for (String line : status.split("\n")) {
                    if (line.startsWith("voluntary_ctxt_switches:")) {
                        n[0] += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                        n[1] += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    }
                }
                out.put(t.getName(), n);
            } catch (java.io.IOException | RuntimeException gone) {
                // a thread that ended meanwhile
            }
        }
        return out;
    }

    /**
     * The library's CPU per event by thread role (the loop, the settler, the handler pool, ...:
     * the name with digits dropped), and its context switches per event: which thread does what,
     * and how often the threads park and wake, the two things that move the library's figure
     * from run to run.
     */
    private String libraryShare(long events) {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        Map<String, long[]> byRole = new java.util.TreeMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (!t.getName().startsWith("workflow-worker")) {
                continue;
            }
            long cpu = mx.getThreadCpuTime(t.getId());
            if (cpu < 0) {
                continue;
            }
            long d = cpu - library0.getOrDefault(t.getId(), 0L);
            long[] r = byRole.computeIfAbsent(t.getName().replaceAll("[0-9]+", "#"), k -> new long[2]);
            r[0] += d;
            r[1]++;
        }
        long[] sw = new long[3];
        threadSwitches().forEach((tid, n) -> {
            long[] b = switches0.getOrDefault(tid, new long[3]);
            sw[2] += n[0] - b[0];
            if (n[2] == 1) {
                sw[0] += n[0] - b[0];
                sw[1] += n[1] - b[1];
            }
        });
        StringBuilder sb = new StringBuilder("library by thread:");
        byRole.entrySet().stream()
                .filter(e -> e.getValue()[0] * 100 >= 1_000L * events) // at least 0.01 us per event
                .sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]))
                .forEach(e -> sb.append(String.format(" %s %.2f us%s;", e.getKey(), e.getValue()[0] / 1e3 / events,
                        e.getValue()[1] > 1 ? " (" + e.getValue()[1] + " threads)" : "")));
        sb.append(String.format(" context switches per 1,000 events: %.1f voluntary, %.1f involuntary",
                sw[0] * 1000.0 / events, sw[1] * 1000.0 / events));
        // Every thread of the JVM's voluntary switches, the figure docs/BENCHMARKS.md's few-keys rows quote.
        sb.append(String.format("; %.2f thread sleeps/event", sw[2] / (double) events));
        return sb.toString();
    }

    private static final int[] CALIBRATION_TABLE = new int[1 << 16];

    /**
     * Milliseconds of this thread's CPU for a fixed piece of work (hashing into a 256 KiB table),
     * best of three. The same code costs more CPU when the host under this VM is busier (another
     * tenant, the sibling hyperthread): read beside the library's figure, it tells such a run from
     * a change in the code path, which moves one thread's share and not all of them.
     */
    private static double calibrate() {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        double best = Double.MAX_VALUE;
        int x = 0x9E3779B9;
        for (int round = 0; round < 3; round++) {
            long t0 = mx.getCurrentThreadCpuTime();
            for (int i = 0; i < 4_000_000; i++) {
                x ^= x << 13;
                x ^= x >>> 17;
                x ^= x << 5;
                CALIBRATION_TABLE[x & (CALIBRATION_TABLE.length - 1)] += i;
            }
            best = Math.min(best, (mx.getCurrentThreadCpuTime() - t0) / 1e6);
        }
        if (CALIBRATION_TABLE[x & 0xff] == 42) {
            System.out.print(""); // keeps the loop from being removed as dead code
        }
        return best;
    }

    private static long jvmCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
