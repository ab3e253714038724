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
    private final long sleeps0;

    private CpuMeter(String url) {
        this.url = url;
        try (Jedis j = new Jedis(URI.create(url))) {
            this.redisCpu0 = redisCpuSeconds(j);
            this.commands0 = commandStats(j);
        }
        this.threads0 = threadTicks();
        this.sleeps0 = threadSleeps();
        this.jvmCpu0 = jvmCpuNanos();
    }

    static CpuMeter start(String url) {
        return new CpuMeter(url);
    }

    /** What happened since start, per event. */
    record Usage(double redisMicrosPerEvent, double jvmMicrosPerEvent, String commands, String jvmThreads) {
    }

    Usage stop(long events) {
        long jvm = jvmCpuNanos() - jvmCpu0;
        String byThread = threadShare(threads0, threadTicks(), events);
        long sleeps = threadSleeps() - sleeps0;
        if (sleeps > 0) {
            byThread = String.format("%.2f thread sleeps/event; %s", sleeps / (double) events, byThread);
        }
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
            return new Usage(redis * 1e6 / events, jvm / 1e3 / events, sb.toString().trim(), byThread);
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
    private static Map<String, long[]> commandStats(Jedis j) {
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

    /**
     * The voluntary context switches of this process's threads, from /proc/self/task: each is a
     * thread that blocked (a park, a wait for a reply) and was woken again, so per event it
     * counts the hand-overs between threads and the round trips waited for; 0 where there is no
     * /proc. Threads that ended meanwhile are not counted.
     */
    private static long threadSleeps() {
        java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
        long total = 0;
        if (tasks == null) {
            return 0;
        }
        for (java.io.File t : tasks) {
            try {
                for (String line : java.nio.file.Files.readAllLines(t.toPath().resolve("status"))) {
                    if (line.startsWith("voluntary_ctxt_switches:")) {
                        total += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    }
                }
            } catch (java.io.IOException | RuntimeException gone) {
                // a thread that ended meanwhile
            }
        }
        return total;
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

    private static long jvmCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
